using System.Globalization;
using LinqToDB.Data;
using Invisible.Data.Tenancy;

namespace Invisible.Server.Matching;

/// <summary>An invoice with its current outcome (<see cref="Status"/> is <c>pending</c> until its first reconcile).</summary>
public sealed record InvoiceListItem(
    Guid InvoiceId,
    long ImportNo,
    int ImportPosition,
    string InvoiceNumber,
    string PrintedVendorName,
    string? VendorCode,
    DateOnly InvoiceDate,
    string Currency,
    decimal InvoiceTotal,
    string Status,
    string? PoNumber,
    DateTime? DecidedAt);

/// <summary>Where a page of <see cref="InvoiceQueries.ListAsync"/> continues: after this import and position.</summary>
public readonly record struct InvoicePosition(long ImportNo, int ImportPosition);

/// <summary>An invoice's current decision with the explanations stored with it.</summary>
public sealed record InvoiceDecisionView(
    InvoiceListItem Invoice,
    string? Explanation,
    string? VendorExplanation,
    string? PoExplanation,
    string? TotalsExplanation,
    Guid? DuplicateOf,
    int? ToleranceVersion,
    IReadOnlyList<InvoiceLineView> Lines);

/// <summary>
/// One invoice line beside its PO line and receipts, as the decision saw them: received and cumulative invoiced come
/// from the decision's evidence, not from today's tables, so the view explains the decision that was made.
/// </summary>
public sealed record InvoiceLineView(
    int LineNo,
    int SourceLine,
    string? Sku,
    string Description,
    decimal Quantity,
    decimal UnitPrice,
    decimal LineAmount,
    string? LineStatus,
    string? Explanation,
    string? PoNumber,
    int? PoLineNo,
    string? PoSku,
    string? PoDescription,
    decimal? OrderedQuantity,
    decimal? PoUnitPrice,
    bool? ReceiptRequired,
    decimal? ReceivedQuantity,
    decimal? CumulativeInvoiced,
    decimal? PriceVariancePercent);

public enum InvoiceSortBy
{
    ImportOrder,
    InvoiceDate,
    Total,
    Vendor,
    InvoiceNumber,
}

/// <summary>What <see cref="InvoiceQueries.SearchAsync"/> narrows by; null members do not narrow.</summary>
/// <param name="Status">A status name (<c>exception</c>, <c>pending</c>, ...).</param>
public sealed record InvoiceSearch(string? Status, string? VendorCode, string? Query, InvoiceSortBy SortBy, bool Descending);

/// <summary>
/// Where a keyset page of <see cref="InvoiceQueries.PageAsync"/> continues: after the invoice with this sort value
/// (<see cref="InvoiceQueries.SortValue"/>; unused in import order) at this import and position.
/// </summary>
public sealed record InvoiceKeyset(string SortValue, long ImportNo, int ImportPosition);

/// <summary>
/// Reads invoices and their current decisions for lists and the invoice page. The current outcome (status, vendor, PO) is
/// read from the invoice row, which every decision keeps in step (<see cref="MatchDecisionStore"/>,
/// <see cref="ReviewerDecisionStore"/>), never from the decision history: a list page reads its 50 rows through an index
/// in the order it shows them, where finding every invoice's newest decision meant sorting the whole history first.
/// </summary>
public static class InvoiceQueries
{
    private const string InvoiceSelect = """
        select i.id as InvoiceId, m.import_no as ImportNo, i.import_position as ImportPosition, i.invoice_number as InvoiceNumber,
               i.printed_vendor_name as PrintedVendorName, v.vendor_code as VendorCode, i.invoice_date as InvoiceDate, i.currency as Currency,
               i.invoice_total as InvoiceTotal, i.status as Status, p.po_number as PoNumber,
               (select max(md.decided_at) from match_decisions md where md.invoice_id = i.id) as DecidedAt
        from invoices i
        join imports m on m.id = i.import_id
        left join vendors v on v.id = i.vendor_id
        left join purchase_orders p on p.id = i.purchase_order_id
        """;

    // Each narrowing folds away when its parameter is null (PostgreSQL plans every statement with its parameters' values).
    private const string Narrowing = """
        (@status::text is null or i.status = @status)
        and (@vendorCode::text is null or i.vendor_id = (select vc.id from vendors vc where vc.vendor_code = @vendorCode))
        and (@query::text is null or i.invoice_number ilike @query or i.printed_vendor_name ilike @query or i.printed_po_number ilike @query
             or exists (select from purchase_orders pq where pq.id = i.purchase_order_id and pq.po_number ilike @query))
        """;

    /// <param name="status">A status name (<c>exception</c>, <c>pending</c>, ...) or null for all.</param>
    public static async Task<IReadOnlyList<InvoiceListItem>> ListAsync(
        TenantUnitOfWork unitOfWork, string? status, InvoicePosition? after, int limit, CancellationToken cancellationToken) =>
        (await PageAsync(
            unitOfWork, new InvoiceSearch(status, null, null, InvoiceSortBy.ImportOrder, false),
            after is { } position ? new InvoiceKeyset("", position.ImportNo, position.ImportPosition) : null, limit, cancellationToken)).Items;

    /// <summary>
    /// A page of invoices narrowed by status, vendor and a search text (invoice number, printed vendor name or PO number,
    /// case-insensitive), in the given order (import order when null), with the count over all pages.
    /// </summary>
    /// <remarks>Reads every row before <paramref name="offset"/>; deep pages go by <see cref="PageAsync"/>.</remarks>
    public static async Task<(IReadOnlyList<InvoiceListItem> Items, int TotalCount)> SearchAsync(
        TenantUnitOfWork unitOfWork, InvoiceSearch search, int offset, int limit, CancellationToken cancellationToken)
    {
        var items = await ReadPageAsync(unitOfWork, search, after: null, offset, limit, cancellationToken);
        return (items, await CountAsync(unitOfWork, search, cancellationToken));
    }

    /// <summary>
    /// Up to <paramref name="limit"/> invoices after <paramref name="after"/> (from the first when null) in the search's
    /// order, and whether more follow. The page starts where the index of its sort column reaches the previous page's last
    /// row, so page 2,000 costs what page 1 does.
    /// </summary>
    public static async Task<(IReadOnlyList<InvoiceListItem> Items, bool HasMore)> PageAsync(
        TenantUnitOfWork unitOfWork, InvoiceSearch search, InvoiceKeyset? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await ReadPageAsync(unitOfWork, search, after, offset: 0, limit + 1, cancellationToken);
        return (rows.Take(limit).ToList(), rows.Count > limit);
    }

    /// <summary>How many invoices the search finds.</summary>
    public static Task<int> CountAsync(TenantUnitOfWork unitOfWork, InvoiceSearch search, CancellationToken cancellationToken) =>
        // SQL: shares the page's narrowing (ilike with an escape, vendor-code scalar subquery) so count and page agree.
        unitOfWork.Db.ExecuteAsync<int>(
            $"select count(*)::int from invoices i where {Narrowing}", Parameters(search, after: null, 0, 0), cancellationToken);

    /// <summary>The value of <paramref name="item"/> that <paramref name="sortBy"/> orders by, as a keyset token keeps it.</summary>
    public static string SortValue(InvoiceListItem item, InvoiceSortBy sortBy) => sortBy switch
    {
        InvoiceSortBy.InvoiceDate => item.InvoiceDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        InvoiceSortBy.Total => item.InvoiceTotal.ToString(CultureInfo.InvariantCulture),
        InvoiceSortBy.Vendor => item.VendorCode ?? item.PrintedVendorName,
        InvoiceSortBy.InvoiceNumber => item.InvoiceNumber,
        _ => "",
    };

    private static async Task<IReadOnlyList<InvoiceListItem>> ReadPageAsync(
        TenantUnitOfWork unitOfWork, InvoiceSearch search, InvoiceKeyset? after, int offset, int limit, CancellationToken cancellationToken)
    {
        var direction = search.Descending ? "desc" : "asc";
        // The sort column with the SQL type its keyset value is read as; ties go in import order.
        var (key, type) = search.SortBy switch
        {
            InvoiceSortBy.InvoiceDate => ("i.invoice_date", "date"),
            InvoiceSortBy.Total => ("i.invoice_total", "numeric"),
            InvoiceSortBy.Vendor => ("coalesce(v.vendor_code, i.printed_vendor_name)", "text"),
            InvoiceSortBy.InvoiceNumber => ("i.invoice_number", "text"),
            _ => ((string?)null, ""),
        };
        var order = key is null ? $"m.import_no {direction}, i.import_position {direction}" : $"{key} {direction}, m.import_no, i.import_position";
        // After the previous page's last row. In import order the position bound depends on the import (case ... end), so
        // that it is an index condition on (import, position) for each import in turn rather than a filter over every row.
        var keyset = after is null ? "true"
            : key is null && !search.Descending
                ? "m.import_no >= @afterImportNo and i.import_position > case when m.import_no = @afterImportNo then @afterPosition else 0 end"
            : key is null
                ? "m.import_no <= @afterImportNo and i.import_position < case when m.import_no = @afterImportNo then @afterPosition else 2147483647 end"
            : $"""
              {key} {(search.Descending ? "<=" : ">=")} @afterValue::{type}
              and ({key} {(search.Descending ? "<" : ">")} @afterValue::{type} or (m.import_no, i.import_position) > (@afterImportNo, @afterPosition))
              """;
        // The page's ids are found first, joining only what narrows and orders them; the columns, the newest decision's time
        // and the PO come for those rows alone. The ids are a materialised CTE read as an array, so the outer query looks
        // them up by primary key (with "i.id in (...)" the planner may join every invoice before keeping the page's).
        // In import order the page is read per import (imports are few), each import's invoices in position order
        // through its (import, position) index, at most offset + limit of them: ordering by the imports' number, which is
        // not on the invoice, read and sorted every invoice of the tenant.
        var page = key is null
            ? $"""
              select x.id
              from imports m
              cross join lateral (
                  select i.id, i.import_position
                  from invoices i
                  where i.import_id = m.id and {Narrowing}
                    {(after is null ? "" : search.Descending
                        ? "and i.import_position < case when m.import_no = @afterImportNo then @afterPosition else 2147483647 end"
                        : "and i.import_position > case when m.import_no = @afterImportNo then @afterPosition else 0 end")}
                  order by i.import_position {direction}
                  limit @offset + @limit) x
              where {(after is null ? "true" : search.Descending ? "m.import_no <= @afterImportNo" : "m.import_no >= @afterImportNo")}
              order by m.import_no {direction}, x.import_position {direction}
              offset @offset limit @limit
              """
            : $"""
              select i.id
              from invoices i
              join imports m on m.id = i.import_id
              {(search.SortBy == InvoiceSortBy.Vendor ? "left join vendors v on v.id = i.vendor_id" : "")}
              where {Narrowing} and {keyset}
              order by {order}
              offset @offset limit @limit
              """;
        // SQL: a materialised id CTE and a lateral read per import, tuned for the plans of migrations 0011/0012, which
        // LINQ cannot say (linq2db has neither "as materialized" nor lateral with a per-outer-row limit).
        return (await unitOfWork.Db.QueryToListAsync<InvoiceListItem>(
            $"""
            with page as materialized ({page})
            {InvoiceSelect}
            where i.id = any(array(select id from page))
            order by {order}
            """, Parameters(search, after, offset, limit), cancellationToken)).ToList();
    }

    private static object Parameters(InvoiceSearch search, InvoiceKeyset? after, int offset, int limit) => new
    {
            status = search.Status,
            vendorCode = search.VendorCode,
            query = string.IsNullOrWhiteSpace(search.Query) ? null : "%" + EscapeLike(search.Query.Trim()) + "%",
            offset,
            limit,
            afterValue = after?.SortValue,
            afterImportNo = after?.ImportNo ?? 0L,
            afterPosition = after?.ImportPosition ?? 0,
    };

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);

    /// <summary>The invoice with its current decision; null when the tenant has no such invoice.</summary>
    public static async Task<InvoiceDecisionView?> GetAsync(TenantUnitOfWork unitOfWork, Guid invoiceId, CancellationToken cancellationToken)
    {
        // SQL: the list's projection (InvoiceSelect, with the newest decision's time as a correlated subquery), reused.
        var invoice = (await unitOfWork.Db.QueryToListAsync<InvoiceListItem>(
            $"{InvoiceSelect} where i.id = @invoiceId", new { invoiceId }, cancellationToken)).SingleOrDefault();
        if (invoice is null)
        {
            return null;
        }

        // SQL: jsonb ->> on the stored explanation.
        var decision = (await unitOfWork.Db.QueryToListAsync<DecisionRow>(
            $"""
            select d.id as Id, d.explanation->>'text' as Explanation, d.explanation->>'vendor' as VendorExplanation,
                   d.explanation->>'po' as PoExplanation, d.explanation->>'totals' as TotalsExplanation, d.duplicate_of as DuplicateOf,
                   t.version as ToleranceVersion
            from match_decisions d join tolerances t on t.id = d.tolerance_id
            where d.invoice_id = @invoiceId
            order by d.decided_at desc, d.id
            limit 1
            """, new { invoiceId }, cancellationToken)).SingleOrDefault();
        // SQL: jsonb paths into the decision's evidence, cast to numeric.
        var lines = (await unitOfWork.Db.QueryToListAsync<InvoiceLineView>(
            """
            select il.line_no as LineNo, il.source_line as SourceLine, il.sku as Sku, il.description as Description, il.quantity as Quantity,
                   il.unit_price as UnitPrice, il.line_amount as LineAmount, ld.line_status as LineStatus, ld.explanation->>'text' as Explanation,
                   p.po_number as PoNumber, pl.line_no as PoLineNo, pl.sku as PoSku, pl.description as PoDescription,
                   pl.quantity as OrderedQuantity, pl.unit_price as PoUnitPrice, pl.receipt_required as ReceiptRequired,
                   (ld.explanation->'evidence'->>'received')::numeric as ReceivedQuantity,
                   (ld.explanation->'evidence'->>'cumulativeInvoiced')::numeric as CumulativeInvoiced,
                   (ld.explanation->'evidence'->>'priceVariancePercent')::numeric as PriceVariancePercent
            from invoice_lines il
            left join line_decisions ld on ld.invoice_line_id = il.id and ld.match_decision_id = @decisionId
            left join purchase_order_lines pl on pl.id = ld.purchase_order_line_id
            left join purchase_orders p on p.id = pl.purchase_order_id
            where il.invoice_id = @invoiceId
            order by il.source_line
            """, new { invoiceId, decisionId = decision?.Id }, cancellationToken)).ToList();
        return new InvoiceDecisionView(
            invoice, decision?.Explanation, decision?.VendorExplanation, decision?.PoExplanation, decision?.TotalsExplanation,
            decision?.DuplicateOf, decision?.ToleranceVersion, lines);
    }

    private sealed class DecisionRow
    {
        public Guid Id { get; init; }
        public string? Explanation { get; init; }
        public string? VendorExplanation { get; init; }
        public string? PoExplanation { get; init; }
        public string? TotalsExplanation { get; init; }
        public Guid? DuplicateOf { get; init; }
        public int ToleranceVersion { get; init; }
    }
}
