using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Documents;

namespace Invisible.Server.Matching;

/// <param name="TouchlessRate">Invoices matched without ever entering the exception queue, over decided invoices (0 when none is decided).</param>
/// <param name="ExceptionsByAge">Open or in-review items per age bucket, in <see cref="DashboardQueries.AgeBuckets"/> order.</param>
public sealed record DashboardView(
    int InvoiceCount,
    double TouchlessRate,
    IReadOnlyDictionary<string, int> InvoicesByStatus,
    IReadOnlyDictionary<string, int> ExceptionsByReason,
    IReadOnlyList<(string Label, int Exceptions)> ExceptionsByAge,
    IReadOnlyList<Money> AmountHeld,
    int ImportsToday,
    DateTimeOffset AsOf,
    int ToKeyCount = 0);

/// <summary>The dashboard's counters, each one set-based query over the tenant's current state.</summary>
public static class DashboardQueries
{
    /// <summary>Age buckets of open exceptions: label and the lowest age in whole days.</summary>
    public static readonly IReadOnlyList<(string Label, int FromDays)> AgeBuckets =
        [("0-2 days", 0), ("3-7 days", 3), ("8-30 days", 8), ("over 30 days", 31)];

    public static async Task<DashboardView> ReadAsync(TenantUnitOfWork unitOfWork, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var db = unitOfWork.Db;
        var invoices = db.GetTable<InvoiceTableRow>();
        var exceptions = db.GetTable<ExceptionTableRow>();
        // The open queue exactly as the partial index exceptions_open is defined, so the planner can use it.
        var openExceptions = exceptions.Where(e => e.Status == "open" || e.Status == "in_review");

        // The counts by status from the (tenant, status, id) index alone; the touchless count as an anti-join of the matched
        // invoices' ids (same index) against the queue's invoice ids (exceptions_invoice), both index-only. One pass with a
        // subquery per matched invoice probed the queue 74,000 times.
        var statusRows = await invoices
            .GroupBy(i => i.Status)
            .Select(group => new { Status = group.Key, Count = group.Count() })
            .ToListAsync(cancellationToken);
        var touchlessCount = await invoices
            .Where(i => i.Status == "matched" && !exceptions.Any(e => e.InvoiceId == i.Id))
            .CountAsync(cancellationToken);
        var byStatus = statusRows.ToDictionary(row => row.Status, row => row.Count, StringComparer.Ordinal);
        var touchless = (Touchless: touchlessCount, Decided: statusRows.Where(row => row.Status != "pending").Sum(row => row.Count));
        // SQL: a reason list is split into its reasons with unnest(string_to_array()), which LINQ cannot say.
        var byReason = (await db.QueryToListAsync(
                reader => (Reason: reader.GetString(0), Count: reader.GetInt32(1)),
                """
                select r.reason, count(*)::int from exceptions e, unnest(string_to_array(e.reason, ',')) as r(reason)
                where e.status in ('open', 'in_review') group by r.reason order by r.reason
                """, cancellationToken))
            .ToDictionary(row => row.Reason, row => row.Count, StringComparer.Ordinal);
        // SQL: grouped by the age in whole days the database computes, rather than one row per open exception sent here.
        var ages = await db.QueryToListAsync(
            reader => (Age: reader.GetInt32(0), Count: reader.GetInt32(1)),
            """
            select greatest(0, floor(extract(epoch from (@now - opened_at)) / 86400))::int as age, count(*)::int
            from exceptions where status in ('open', 'in_review') group by 1
            """,
            new { now = now.UtcDateTime }, cancellationToken);
        var held = (await (
                from e in openExceptions
                join i in invoices on e.InvoiceId equals i.Id
                group i by i.Currency into byCurrency
                orderby byCurrency.Key
                select new { Currency = byCurrency.Key, Amount = byCurrency.Sum(i => i.InvoiceTotal) })
            .ToListAsync(cancellationToken))
            .Select(row => new Money(row.Amount, row.Currency))
            .ToList();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var importsToday = await db.GetTable<ImportTableRow>()
            .Where(import => import.Status == "stored" && import.ReceivedAt >= today)
            .CountAsync(cancellationToken);
        var toKey = await db.GetTable<Intake.IntakeAttachmentRow>()
            .Where(attachment => attachment.Outcome == Intake.AttachmentOutcome.ToKey)
            .CountAsync(cancellationToken);

        var byAge = AgeBuckets
            .Select((bucket, index) => (bucket.Label, ages.Where(age =>
                age.Age >= bucket.FromDays && (index == AgeBuckets.Count - 1 || age.Age < AgeBuckets[index + 1].FromDays)).Sum(age => age.Count)))
            .ToList();
        return new DashboardView(
            byStatus.Values.Sum(),
            touchless.Decided == 0 ? 0 : (double)touchless.Touchless / touchless.Decided,
            byStatus,
            byReason,
            byAge,
            held,
            importsToday,
            now,
            toKey);
    }
}
