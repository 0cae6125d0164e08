using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Matching;

/// <summary>Everything one reconcile run decided, in results order (import order, then source line).</summary>
public sealed record ReconciliationResult(IReadOnlyList<InvoiceDecision> Invoices, int ToleranceVersion, int SimilarityModelVersion);

/// <summary>
/// The decision on one invoice with the evidence it rests on. Decisions are values: re-matching produces a new one and
/// the old one stays as it was.
/// </summary>
/// <param name="DuplicateOfInvoiceId">For a duplicate: the earlier invoice it repeats.</param>
public sealed record InvoiceDecision(
    string InvoiceId,
    string InvoiceNumber,
    ImportOrigin Origin,
    InvoiceStatus Status,
    VendorResolution Vendor,
    PoIdentification Po,
    string? DuplicateOfInvoiceId,
    TotalsCheck Totals,
    IReadOnlyList<LineDecision> Lines,
    int ToleranceVersion,
    string Explanation)
{
    public string? VendorCode => Vendor.Vendor?.Code;
}

/// <summary>Which PO the invoice was matched against and why; the ranked candidates when inference was needed.</summary>
public sealed record PoIdentification(
    string? PoNumber,
    int? PoVersion,
    PoIdentifiedBy IdentifiedBy,
    IReadOnlyList<PoCandidate> Candidates,
    string Explanation)
{
    public static PoIdentification NotAttempted(string reason) => new(null, null, PoIdentifiedBy.None, [], reason);
}

/// <summary>An open PO considered for an invoice without a usable reference, with the fit measures that scored it.</summary>
/// <param name="ItemOverlap">Share of invoice lines that pair with a line of this PO (by SKU or description).</param>
/// <param name="QuantityFit">Share of paired lines whose quantity fits what is still open to invoice on the PO line.</param>
/// <param name="ExactQuantity">Share of paired lines billing exactly what is still open, or received and not yet billed.</param>
/// <param name="PriceFit">Share of paired lines whose unit price is within the price tolerance.</param>
/// <remarks>
/// Formattable into a span, so that explanations listing candidates write them straight into their own text; the text is
/// the same whichever way it is asked for, in the culture of the provider given (none: the current culture).
/// </remarks>
public sealed record PoCandidate(string PoNumber, double Score, double ItemOverlap, double QuantityFit, double ExactQuantity, double PriceFit)
    : ISpanFormattable
{
    public override string ToString() => ToString(null, null);

    public string ToString(string? format, IFormatProvider? formatProvider) => string.Create(formatProvider, $"{this}");

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(
            provider,
            $"{PoNumber} score {Score:0.00} (items {ItemOverlap:P0}, quantities fit {QuantityFit:P0} / exact {ExactQuantity:P0}, prices {PriceFit:P0})",
            out charsWritten);
}

/// <summary>Header total against the sum of line amounts and taxes.</summary>
public sealed record TotalsCheck(Money PrintedTotal, Money SumOfLines, decimal Tolerance)
{
    public decimal Difference => PrintedTotal.Amount - SumOfLines.Amount;

    public bool AddsUp => Math.Abs(Difference) <= Tolerance;
}

/// <summary>The decision on one invoice line; <see cref="Evidence"/> is null when it was not paired with a PO line.</summary>
public sealed record LineDecision(
    int LineNo,
    int SourceLine,
    LineStatus Status,
    string? PoNumber,
    int? PoLineNo,
    LinePairedBy PairedBy,
    LineEvidence? Evidence,
    string Explanation);

/// <summary>The figures a line decision used, as they were at the time of the decision.</summary>
/// <param name="CumulativeInvoiced">Invoiced on the PO line by this and earlier non-duplicate invoices.</param>
/// <param name="QuantityBase">Received (3-way) or ordered (2-way): what the cumulative quantity is held against.</param>
public sealed record LineEvidence(
    decimal PoUnitPrice,
    decimal InvoiceUnitPrice,
    decimal PriceVariancePercent,
    decimal InvoicedQuantity,
    decimal CumulativeInvoiced,
    decimal Received,
    decimal Ordered,
    bool ReceiptRequired,
    decimal QuantityBase,
    int PoVersion,
    ToleranceRule ToleranceUsed,
    double? DescriptionSimilarity);
