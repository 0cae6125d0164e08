using Dapper;
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

/// <summary>Reads invoices and their current decisions for lists and the invoice page.</summary>
public static class InvoiceQueries
{
    private const string InvoiceSelect = $"""
        {MatchDecisionStore.LatestDecisionsSql}
        select i.id as InvoiceId, m.import_no as ImportNo, i.import_position as ImportPosition, i.invoice_number as InvoiceNumber,
               i.printed_vendor_name as PrintedVendorName, v.vendor_code as VendorCode, i.invoice_date as InvoiceDate, i.currency as Currency,
               i.invoice_total as InvoiceTotal, coalesce(d.invoice_status, 'pending') as Status, p.po_number as PoNumber, d.decided_at as DecidedAt
        from invoices i
        join imports m on m.id = i.import_id
        left join latest d on d.invoice_id = i.id
        left join vendors v on v.id = d.vendor_id
        left join purchase_orders p on p.id = d.purchase_order_id
        """;

    /// <param name="status">A status name (<c>exception</c>, <c>pending</c>, ...) or null for all.</param>
    public static async Task<IReadOnlyList<InvoiceListItem>> ListAsync(
        TenantUnitOfWork unitOfWork, string? status, InvoicePosition? after, int limit, CancellationToken cancellationToken) =>
        (await unitOfWork.Connection.QueryAsync<InvoiceListItem>(new CommandDefinition(
            $"""
            {InvoiceSelect}
            where (@status::text is null or coalesce(d.invoice_status, 'pending') = @status)
              and (m.import_no, i.import_position) > (@afterImportNo, @afterPosition)
            order by m.import_no, i.import_position
            limit @limit
            """,
            new { status, afterImportNo = after?.ImportNo ?? 0L, afterPosition = after?.ImportPosition ?? 0, limit },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken))).ToList();

    /// <summary>
    /// A page of invoices narrowed by status, vendor and a search text (invoice number, printed vendor name or PO number,
    /// case-insensitive), in the given order (import order when null), with the count over all pages.
    /// </summary>
    public static async Task<(IReadOnlyList<InvoiceListItem> Items, int TotalCount)> SearchAsync(
        TenantUnitOfWork unitOfWork, InvoiceSearch search, int offset, int limit, CancellationToken cancellationToken)
    {
        var direction = search.Descending ? "desc" : "asc";
        var order = search.SortBy switch
        {
            InvoiceSortBy.InvoiceDate => $"i.invoice_date {direction}, m.import_no, i.import_position",
            InvoiceSortBy.Total => $"i.invoice_total {direction}, m.import_no, i.import_position",
            InvoiceSortBy.Vendor => $"coalesce(v.vendor_code, i.printed_vendor_name) {direction}, m.import_no, i.import_position",
            InvoiceSortBy.InvoiceNumber => $"i.invoice_number {direction}, m.import_no, i.import_position",
            _ => $"m.import_no {direction}, i.import_position {direction}",
        };
        var rows = (await unitOfWork.Connection.QueryAsync<InvoiceSearchRow>(new CommandDefinition(
            $"""
            {InvoiceSelect.Replace("d.decided_at as DecidedAt", "d.decided_at as DecidedAt, count(*) over () as TotalCount", StringComparison.Ordinal)}
            where (@status::text is null or coalesce(d.invoice_status, 'pending') = @status)
              and (@vendorCode::text is null or v.vendor_code = @vendorCode)
              and (@query::text is null or i.invoice_number ilike @query or i.printed_vendor_name ilike @query or p.po_number ilike @query
                   or i.printed_po_number ilike @query)
            order by {order}
            offset @offset limit @limit
            """,
            new
            {
                status = search.Status,
                vendorCode = search.VendorCode,
                query = string.IsNullOrWhiteSpace(search.Query) ? null : "%" + EscapeLike(search.Query.Trim()) + "%",
                offset,
                limit,
            },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken))).ToList();
        var items = rows.Select(row => new InvoiceListItem(
            row.InvoiceId, row.ImportNo, row.ImportPosition, row.InvoiceNumber, row.PrintedVendorName, row.VendorCode, row.InvoiceDate,
            row.Currency, row.InvoiceTotal, row.Status, row.PoNumber, row.DecidedAt)).ToList();
        var total = rows.Count > 0 ? (int)rows[0].TotalCount
            : offset == 0 ? 0
            : (await SearchAsync(unitOfWork, search, 0, 1, cancellationToken)).TotalCount;
        return (items, total);
    }

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);

    /// <summary>The invoice with its current decision; null when the tenant has no such invoice.</summary>
    public static async Task<InvoiceDecisionView?> GetAsync(TenantUnitOfWork unitOfWork, Guid invoiceId, CancellationToken cancellationToken)
    {
        var invoice = await unitOfWork.Connection.QuerySingleOrDefaultAsync<InvoiceListItem>(new CommandDefinition(
            $"{InvoiceSelect} where i.id = @invoiceId", new { invoiceId }, unitOfWork.Transaction, cancellationToken: cancellationToken));
        if (invoice is null)
        {
            return null;
        }

        var decision = await unitOfWork.Connection.QuerySingleOrDefaultAsync<DecisionRow>(new CommandDefinition(
            $"""
            {MatchDecisionStore.LatestDecisionsSql}
            select d.id as Id, d.explanation->>'text' as Explanation, d.explanation->>'vendor' as VendorExplanation,
                   d.explanation->>'po' as PoExplanation, d.explanation->>'totals' as TotalsExplanation, d.duplicate_of as DuplicateOf,
                   t.version as ToleranceVersion
            from latest d join tolerances t on t.id = d.tolerance_id
            where d.invoice_id = @invoiceId
            """, new { invoiceId }, unitOfWork.Transaction, cancellationToken: cancellationToken));
        var lines = (await unitOfWork.Connection.QueryAsync<InvoiceLineView>(new CommandDefinition(
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
            """, new { invoiceId, decisionId = decision?.Id }, unitOfWork.Transaction, cancellationToken: cancellationToken))).ToList();
        return new InvoiceDecisionView(
            invoice, decision?.Explanation, decision?.VendorExplanation, decision?.PoExplanation, decision?.TotalsExplanation,
            decision?.DuplicateOf, decision?.ToleranceVersion, lines);
    }

    private sealed class InvoiceSearchRow
    {
        public Guid InvoiceId { get; init; }
        public long ImportNo { get; init; }
        public int ImportPosition { get; init; }
        public string InvoiceNumber { get; init; } = "";
        public string PrintedVendorName { get; init; } = "";
        public string? VendorCode { get; init; }
        public DateOnly InvoiceDate { get; init; }
        public string Currency { get; init; } = "";
        public decimal InvoiceTotal { get; init; }
        public string Status { get; init; } = "";
        public string? PoNumber { get; init; }
        public DateTime? DecidedAt { get; init; }
        public long TotalCount { get; init; }
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
