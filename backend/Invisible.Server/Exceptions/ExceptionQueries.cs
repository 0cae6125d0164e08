using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Server.Matching;

namespace Invisible.Server.Exceptions;

/// <summary>One queue entry with its invoice as lists show it.</summary>
public sealed record ExceptionView(
    Guid Id,
    InvoiceListItem Invoice,
    string Reason,
    string? Explanation,
    string State,
    Guid? AssigneeId,
    string? AssigneeName,
    DateTime OpenedAt,
    DateTime? ResolvedAt,
    string? ResolutionNote,
    Guid MatchDecisionId);

public enum ExceptionOrder
{
    Oldest,
    Newest,
    AmountDescending,
}

/// <summary>A queue filter; null members do not narrow.</summary>
/// <param name="States">Empty: open and in_review.</param>
/// <param name="Now">Ages are measured against it (the server's clock, not the database's).</param>
public sealed record ExceptionFilter(
    IReadOnlyList<string> States,
    string? Reason,
    string? VendorCode,
    Guid? AssigneeId,
    int? MinAgeDays,
    decimal? MinAmount,
    decimal? MaxAmount,
    ExceptionOrder Order,
    DateTimeOffset Now);

public sealed record ExceptionPage(IReadOnlyList<ExceptionView> Items, int TotalCount);

/// <summary>Reads the exception queue (table <c>exceptions</c>, kept in step with decisions by <see cref="MatchDecisionStore"/>).</summary>
public static class ExceptionQueries
{
    private const string Select = """
        select e.id as Id, e.reason as Reason, d.explanation->>'text' as Explanation, e.status as State, e.assignee_id as AssigneeId,
               coalesce(nullif(u.display_name, ''), u.email) as AssigneeName, e.opened_at as OpenedAt, e.resolved_at as ResolvedAt,
               e.resolution_note as ResolutionNote, e.match_decision_id as MatchDecisionId,
               i.id as InvoiceId, m.import_no as ImportNo, i.import_position as ImportPosition, i.invoice_number as InvoiceNumber,
               i.printed_vendor_name as PrintedVendorName, v.vendor_code as VendorCode, i.invoice_date as InvoiceDate, i.currency as Currency,
               i.invoice_total as InvoiceTotal, i.status as InvoiceStatus, p.po_number as PoNumber, current_decision.decided_at as DecidedAt
        from unnest(@ids::uuid[]) with ordinality as page(id, ordinal)
        join exceptions e on e.id = page.id
        join invoices i on i.id = e.invoice_id
        join imports m on m.id = i.import_id
        join match_decisions d on d.id = e.match_decision_id
        left join vendors v on v.id = i.vendor_id
        left join purchase_orders p on p.id = i.purchase_order_id
        left join users u on u.id = e.assignee_id
        left join lateral (
            select md.decided_at from match_decisions md where md.invoice_id = i.id order by md.decided_at desc, md.id limit 1
        ) current_decision on true
        """;

    public static async Task<ExceptionPage> ListAsync(
        TenantUnitOfWork unitOfWork, ExceptionFilter filter, int offset, int limit, CancellationToken cancellationToken)
    {
        var db = unitOfWork.Db;
        var states = filter.States.Count > 0 ? filter.States.ToArray() : ["open", "in_review"];
        var exceptions = db.GetTable<QueueExceptionRow>().Where(e => states.Contains(e.Status));
        if (filter.Reason is { } reason)
        {
            exceptions = exceptions.Where(e => QueueSql.IsOneOf(reason, e.Reason));
        }

        if (filter.AssigneeId is { } assigneeId)
        {
            exceptions = exceptions.Where(e => e.AssigneeId == assigneeId);
        }

        if (filter.MinAgeDays is { } days)
        {
            var maxOpenedAt = filter.Now.AddDays(-days).UtcDateTime;
            exceptions = exceptions.Where(e => e.OpenedAt <= maxOpenedAt);
        }

        // The invoice is joined only when a filter or the order reads it: every exception has its invoice (foreign key,
        // same tenant), so the join narrows nothing, and the count without it reads the open-queue index alone.
        var needsInvoice = filter.Order == ExceptionOrder.AmountDescending || filter.MinAmount is not null || filter.MaxAmount is not null
            || filter.VendorCode is not null;
        IQueryable<QueueExceptionRow> narrowed = exceptions;
        IQueryable<Guid> page;
        if (needsInvoice)
        {
            var withInvoice = exceptions.Join(db.GetTable<QueueInvoiceRow>(), e => e.InvoiceId, i => i.Id, (e, i) => new { e, i });
            if (filter.VendorCode is { } vendorCode)
            {
                // A scalar subquery, so the vendor's id is an index condition on invoices_vendor_ids (migration 0012).
                withInvoice = withInvoice.Where(x => x.i.VendorId ==
                    db.GetTable<QueueVendorRow>().Where(v => v.VendorCode == vendorCode).Select(v => (Guid?)v.Id).FirstOrDefault());
            }

            if (filter.MinAmount is { } minAmount)
            {
                withInvoice = withInvoice.Where(x => x.i.InvoiceTotal >= minAmount);
            }

            if (filter.MaxAmount is { } maxAmount)
            {
                withInvoice = withInvoice.Where(x => x.i.InvoiceTotal <= maxAmount);
            }

            narrowed = withInvoice.Select(x => x.e);
            page = (filter.Order switch
            {
                ExceptionOrder.Newest => withInvoice.OrderByDescending(x => x.e.OpenedAt).ThenBy(x => x.e.Id),
                ExceptionOrder.AmountDescending => withInvoice.OrderByDescending(x => x.i.InvoiceTotal).ThenBy(x => x.e.OpenedAt).ThenBy(x => x.e.Id),
                _ => withInvoice.OrderBy(x => x.e.OpenedAt).ThenBy(x => x.e.Id),
            }).Select(x => x.e.Id);
        }
        else
        {
            page = (filter.Order == ExceptionOrder.Newest
                ? exceptions.OrderByDescending(e => e.OpenedAt).ThenBy(e => e.Id)
                : exceptions.OrderBy(e => e.OpenedAt).ThenBy(e => e.Id)).Select(e => e.Id);
        }

        // The page's ids first (count(*) over () made every page read and join the whole queue), then their columns
        // for those rows alone.
        var ids = await page.Skip(offset).Take(limit).ToArrayAsync(cancellationToken);
        var rows = await ReadAsync(unitOfWork, ids, cancellationToken);
        var total = offset == 0 && ids.Length < limit ? ids.Length : await narrowed.CountAsync(cancellationToken);
        return new ExceptionPage(rows.Select(ToView).ToList(), total);
    }

    // SQL: jsonb ->> on the explanation and a lateral newest-decision lookup, read for the page's ids in their order.
    private static async Task<IReadOnlyList<Row>> ReadAsync(TenantUnitOfWork unitOfWork, Guid[] ids, CancellationToken cancellationToken) =>
        ids.Length == 0 ? [] : await unitOfWork.Db.QueryToListAsync<Row>(
            $"{Select} order by page.ordinal", new { ids }, cancellationToken);

    public static async Task<ExceptionView?> GetAsync(TenantUnitOfWork unitOfWork, Guid exceptionId, bool forUpdate, CancellationToken cancellationToken)
    {
        if (forUpdate)
        {
            // Two reviewers acting on one item take turns; the second sees the first one's outcome. SQL: a row lock.
            await unitOfWork.Db.ExecuteAsync(
                "select 1 from exceptions where id = @exceptionId for update", new { exceptionId }, cancellationToken);
        }

        var row = (await ReadAsync(unitOfWork, [exceptionId], cancellationToken)).SingleOrDefault();
        return row is null ? null : ToView(row);
    }

    private static ExceptionView ToView(Row row) => new(
        row.Id,
        new InvoiceListItem(
            row.InvoiceId, row.ImportNo, row.ImportPosition, row.InvoiceNumber, row.PrintedVendorName, row.VendorCode,
            row.InvoiceDate, row.Currency, row.InvoiceTotal, row.InvoiceStatus, row.PoNumber, row.DecidedAt),
        row.Reason,
        row.Explanation,
        row.State,
        row.AssigneeId,
        row.AssigneeName,
        row.OpenedAt,
        row.ResolvedAt,
        row.ResolutionNote,
        row.MatchDecisionId);

    private sealed class Row
    {
        public Guid Id { get; init; }
        public string Reason { get; init; } = "";
        public string? Explanation { get; init; }
        public string State { get; init; } = "";
        public Guid? AssigneeId { get; init; }
        public string? AssigneeName { get; init; }
        public DateTime OpenedAt { get; init; }
        public DateTime? ResolvedAt { get; init; }
        public string? ResolutionNote { get; init; }
        public Guid MatchDecisionId { get; init; }
        public Guid InvoiceId { get; init; }
        public long ImportNo { get; init; }
        public int ImportPosition { get; init; }
        public string InvoiceNumber { get; init; } = "";
        public string PrintedVendorName { get; init; } = "";
        public string? VendorCode { get; init; }
        public DateOnly InvoiceDate { get; init; }
        public string Currency { get; init; } = "";
        public decimal InvoiceTotal { get; init; }
        public string InvoiceStatus { get; init; } = "";
        public string? PoNumber { get; init; }
        public DateTime? DecidedAt { get; init; }
    }
}
