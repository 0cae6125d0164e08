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
    Guid MatchDecisionId)
{
    /// <summary>Where the approval stands; read for one item (detail, an action's answer), not for lists.</summary>
    public ApprovalProgressView? Approval { get; init; }
}

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
    // A user without a display name is named by the start of their id: the address is stored only sealed (issue #20).
    private const string Select = """
        select e.id as Id, e.reason as Reason, d.explanation->>'text' as Explanation, e.status as State, e.assignee_id as AssigneeId,
               coalesce(nullif(u.display_name, ''), 'user ' || left(u.id::text, 8)) as AssigneeName, e.opened_at as OpenedAt, e.resolved_at as ResolvedAt,
               e.resolution_note as ResolutionNote, e.match_decision_id as MatchDecisionId,
               i.id as InvoiceId, m.import_no as ImportNo, i.import_position as ImportPosition, i.invoice_number as InvoiceNumber,
               i.printed_vendor_name as PrintedVendorName, v.vendor_code as VendorCode, i.invoice_date as InvoiceDate, i.currency as Currency,
               i.invoice_total as InvoiceTotal, i.status as InvoiceStatus, p.po_number as PoNumber, current_decision.decided_at as DecidedAt
        from page
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

    // Only what narrows the queue is joined (the invoice for amounts, its vendor for the code; see InvoiceJoin).
    private const string Narrowing = """
        where e.status = any(@states)
          and (@reason::text is null or @reason = any(string_to_array(e.reason, ',')))
          and (@assigneeId::uuid is null or e.assignee_id = @assigneeId)
          and (@maxOpenedAt::timestamptz is null or e.opened_at <= @maxOpenedAt)
        """;

    private const string InvoiceNarrowing = """
          and (@vendorCode::text is null or i.vendor_id = (select vc.id from vendors vc where vc.vendor_code = @vendorCode))
          and (@minAmount::numeric is null or i.invoice_total >= @minAmount)
          and (@maxAmount::numeric is null or i.invoice_total <= @maxAmount)
        """;

    public static async Task<ExceptionPage> ListAsync(
        TenantUnitOfWork unitOfWork, ExceptionFilter filter, int offset, int limit, CancellationToken cancellationToken)
    {
        var order = filter.Order switch
        {
            ExceptionOrder.Newest => "e.opened_at desc, e.id",
            ExceptionOrder.AmountDescending => "i.invoice_total desc, e.opened_at, e.id",
            _ => "e.opened_at, e.id",
        };
        var parameters = Parameters(filter, offset, limit);
        // The invoice is joined only when a filter or the order reads it: every exception has its invoice (foreign key,
        // same tenant), so the join narrows nothing, and the count without it reads the open-queue index alone.
        var needsInvoice = filter.Order == ExceptionOrder.AmountDescending || filter.MinAmount is not null || filter.MaxAmount is not null
            || filter.VendorCode is not null;
        var from = needsInvoice ? "from exceptions e join invoices i on i.id = e.invoice_id" : "from exceptions e";
        var narrowing = needsInvoice ? Narrowing + InvoiceNarrowing : Narrowing;
        // The page's ids first (count(*) over () made every page read and join the whole queue), then their columns. A
        // materialised CTE, since with "e.id in (...)" the planner joined and ran the newest-decision lookup for the whole
        // queue before keeping the page's 50 rows.
        // SQL: a materialised id CTE, a lateral newest-decision lookup and jsonb ->>, tuned for the plans of migrations 0011/0012.
        var rows = (await unitOfWork.Db.QueryToListAsync<Row>(
            $"""
            with page as materialized (select e.id {from} {narrowing} order by {order} offset @offset limit @limit)
            {Select}
            order by {order}
            """, parameters, cancellationToken)).ToList();
        var total = offset == 0 && rows.Count < limit
            ? rows.Count
            // SQL: shares the page's narrowing text so count and page agree.
            : await unitOfWork.Db.ExecuteAsync<int>(
                $"select count(*)::int {from} {narrowing}", parameters, cancellationToken);
        return new ExceptionPage(rows.Select(ToView).ToList(), total);
    }

    private static object Parameters(ExceptionFilter filter, int offset, int limit) => new
    {
        states = filter.States.Count > 0 ? filter.States.ToArray() : ["open", "in_review"],
        reason = filter.Reason,
        vendorCode = filter.VendorCode,
        assigneeId = filter.AssigneeId,
        maxOpenedAt = filter.MinAgeDays is { } days ? filter.Now.AddDays(-days).UtcDateTime : (DateTime?)null,
        minAmount = filter.MinAmount,
        maxAmount = filter.MaxAmount,
        offset,
        limit,
    };

    public static async Task<ExceptionView?> GetAsync(TenantUnitOfWork unitOfWork, Guid exceptionId, bool forUpdate, CancellationToken cancellationToken)
    {
        if (forUpdate)
        {
            // Two reviewers acting on one item take turns; the second sees the first one's outcome. SQL: a row lock.
            await unitOfWork.Db.ExecuteAsync(
                "select 1 from exceptions where id = @exceptionId for update", new { exceptionId }, cancellationToken);
        }

        // SQL: the list's projection (lateral newest decision, jsonb ->>) for one id.
        var row = (await unitOfWork.Db.QueryToListAsync<Row>(
            $"with page as (select @exceptionId as id) {Select}", new { exceptionId }, cancellationToken)).SingleOrDefault();
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
