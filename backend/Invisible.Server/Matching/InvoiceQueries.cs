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
