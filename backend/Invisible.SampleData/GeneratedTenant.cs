using Invisible.Reconciliation.Documents;

namespace Invisible.SampleData;

/// <summary>Generated documents and what is really true about each invoice.</summary>
public sealed record GeneratedTenant(TenantSnapshot Snapshot, IReadOnlyList<InvoiceTruth> Truth);

/// <summary>
/// The ground truth of one invoice: who sent it, which PO it bills, whether it repeats an earlier invoice, and whether
/// the generator made it clean (every line within tolerance, received, totals right), i.e. one that should auto-match.
/// </summary>
/// <param name="PoNumber">The PO it bills; set for duplicates too (the PO the original billed).</param>
public sealed record InvoiceTruth(
    string InvoiceId,
    string VendorCode,
    string PoNumber,
    string? DuplicateOfInvoiceId,
    bool ShouldAutoMatch,
    IReadOnlyList<LineTruth> Lines);

/// <summary>The PO line an invoice line really bills; null for a charge that was never ordered (freight).</summary>
public sealed record LineTruth(int SourceLine, int? PoLineNo);
