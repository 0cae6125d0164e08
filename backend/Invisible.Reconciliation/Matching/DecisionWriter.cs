using System.Globalization;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Matching;

/// <summary>How deciding an invoice came out, before the decision is written.</summary>
internal enum DraftOutcome
{
    NoVendor,
    Duplicate,
    NoPo,
    Matched,
}

/// <summary>Why the printed PO reference did not identify the PO (<see cref="None"/>: it did).</summary>
internal enum ReferenceProblem
{
    None,
    NotPrinted,
    Unknown,
    OtherVendors,
}

/// <summary>
/// Everything a decision rests on, as it was when the invoice was decided in processing order: what the ledger said is
/// captured here (per line in <see cref="LineDraft"/>), so the decision can be written later, on any thread.
/// </summary>
internal struct DecisionDraft
{
    public Invoice Invoice;
    public VendorResolution Vendor;
    public ToleranceRule Tolerance;
    public DraftOutcome Outcome;
    public Invoice? Original;
    public string? DuplicateReason;
    public IndexedPurchaseOrder? Chosen;
    public ReferenceProblem Reference;
    public IReadOnlyList<PoCandidate> Ranked;
    public PoCandidate? Inferred;

    /// <summary>Where this invoice's line drafts start in its batch (one per invoice line, for a matched invoice).</summary>
    public int FirstLine;
}

/// <summary>An invoice line against its PO line, with the PO line's quantities right after this line was booked.</summary>
internal readonly record struct LineDraft(LinePairing Pairing, decimal Cumulative, decimal Received);

/// <summary>A run of drafts in processing order and their lines; reused batch after batch.</summary>
internal sealed class DraftBatch
{
    private DecisionDraft[] drafts = new DecisionDraft[16];

    public int Count { get; private set; }

    public List<LineDraft> Lines { get; } = [];

    public ref DecisionDraft this[int index] => ref drafts[index];

    public ref DecisionDraft Add()
    {
        if (Count == drafts.Length)
        {
            Array.Resize(ref drafts, drafts.Length * 2);
        }

        drafts[Count] = default;
        return ref drafts[Count++];
    }

    public void Clear()
    {
        Array.Clear(drafts, 0, Count);
        Count = 0;
        Lines.Clear();
    }
}

/// <summary>
/// Writes decisions from their drafts: the records, the evidence and every explanation. Reads nothing that deciding
/// later invoices changes, so drafts can be written on another thread while the next ones are decided; one writer
/// serves any number of threads.
/// </summary>
internal sealed class DecisionWriter
{
    private readonly Tolerances tolerances;

    /// <summary>Each rule as explanations quote it, made once: every price line quotes the one it was held to.</summary>
    private readonly Dictionary<ToleranceRule, string> toleranceTexts = new(ReferenceEqualityComparer.Instance);

    public DecisionWriter(Tolerances tolerances)
    {
        this.tolerances = tolerances;
        foreach (var rule in tolerances.VendorOverrides.Values.Prepend(tolerances.TenantDefault))
        {
            toleranceTexts.TryAdd(rule, rule.ToString());
        }
    }

    public InvoiceDecision Write(DraftBatch batch, int index)
    {
        ref readonly var draft = ref batch[index];
        var invoice = draft.Invoice;
        var vendor = draft.Vendor;
        var totals = new TotalsCheck(invoice.Total, new Money(invoice.SumOfLines, invoice.Currency), draft.Tolerance.InvoiceTotalAbsolute);
        switch (draft.Outcome)
        {
            case DraftOutcome.NoVendor:
                return Unmatched(invoice, InvoiceStatus.NoPo, vendor, PoIdentification.NotAttempted("No PO is looked for without a vendor."), null, totals,
                    $"No PO: the vendor could not be identified. {vendor.Explanation}");
            case DraftOutcome.Duplicate:
                var original = draft.Original!;
                return Unmatched(invoice, InvoiceStatus.Duplicate, vendor, PoIdentification.NotAttempted("A duplicate is not matched to a PO."),
                    original.Id, totals,
                    $"Duplicate of invoice '{original.InvoiceNumber}' of {original.InvoiceDate:yyyy-MM-dd} from {vendor.Vendor!.Code}: {draft.DuplicateReason}. It consumes no PO quantity.");
            case DraftOutcome.NoPo:
                var identification = Identification(draft);
                return Unmatched(invoice, InvoiceStatus.NoPo, vendor, identification, null, totals, $"No PO: {identification.Explanation}");
            default:
                return Matched(draft, batch.Lines, totals);
        }
    }

    private InvoiceDecision Matched(in DecisionDraft draft, List<LineDraft> lineDrafts, TotalsCheck totals)
    {
        var invoice = draft.Invoice;
        var chosen = draft.Chosen!;
        var lines = new List<LineDecision>(invoice.Lines.Count);
        for (var i = 0; i < invoice.Lines.Count; i++)
        {
            lines.Add(LineDecisionOf(invoice.Lines[i], chosen, lineDrafts[draft.FirstLine + i], draft.Tolerance));
        }

        var status = InvoiceStatusOf(lines, totals);
        return new InvoiceDecision(invoice.Id, invoice.InvoiceNumber, invoice.Origin, status, draft.Vendor, Identification(draft), null, totals,
            InSourceLineOrder(lines), tolerances.Version, ExplainInvoice(status, chosen.PurchaseOrder, lines, totals));
    }

    private static PoIdentification Identification(in DecisionDraft draft)
    {
        var invoice = draft.Invoice;
        if (draft.Reference == ReferenceProblem.None)
        {
            var po = draft.Chosen!.PurchaseOrder;
            return new PoIdentification(po.PoNumber, po.Version, PoIdentifiedBy.PrintedReference, [],
                $"PO {po.PoNumber} from the printed reference '{invoice.PrintedPoReference}'.");
        }

        var why = draft.Reference switch
        {
            ReferenceProblem.NotPrinted => "No PO reference printed",
            ReferenceProblem.Unknown => $"Printed PO reference '{invoice.PrintedPoReference}' is unknown",
            _ => $"Printed PO reference '{invoice.PrintedPoReference}' is a PO of another vendor",
        };
        var vendorCode = draft.Vendor.Vendor!.Code;
        var ranked = draft.Ranked;
        if (draft.Chosen is not { } inferred)
        {
            return new PoIdentification(null, null, PoIdentifiedBy.None, ranked,
                ranked.Count == 0
                    ? $"{why}; no open PO of {vendorCode} ordered by the invoice date has any of the invoiced items."
                    : $"{why}; no single open PO of {vendorCode} clearly fits. Candidates: {new CandidatesText(ranked, 3)}.");
        }

        var inferredCandidate = draft.Inferred!;
        return new PoIdentification(inferred.PurchaseOrder.PoNumber, inferred.PurchaseOrder.Version, PoIdentifiedBy.Inferred, ranked,
            NextAfter(ranked, inferredCandidate) is { } next
                ? $"{why}; inferred {inferredCandidate}, ahead of {next}."
                : $"{why}; inferred {inferredCandidate}, the only open PO with these items.");
    }

    /// <summary>The first ranked candidate other than the inferred one (by value, as candidates compare).</summary>
    private static PoCandidate? NextAfter(IReadOnlyList<PoCandidate> ranked, PoCandidate inferred)
    {
        foreach (var candidate in ranked)
        {
            if (candidate != inferred)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Line decisions by source line; lines almost always come in that order already, and then the list is kept.</summary>
    private static List<LineDecision> InSourceLineOrder(List<LineDecision> lines)
    {
        for (var i = 1; i < lines.Count; i++)
        {
            if (lines[i].SourceLine < lines[i - 1].SourceLine)
            {
                return lines.OrderBy(line => line.SourceLine).ToList();
            }
        }

        return lines;
    }

    private LineDecision LineDecisionOf(InvoiceLine line, IndexedPurchaseOrder indexed, LineDraft draft, ToleranceRule tolerance)
    {
        var po = indexed.PurchaseOrder;
        var pairing = draft.Pairing;
        if (pairing.PoLine is not { } poLine)
        {
            return new LineDecision(line.LineNo, line.SourceLine, LineStatus.Unmatched, null, null, LinePairedBy.None, null,
                string.IsNullOrWhiteSpace(line.Sku)
                    ? $"No line of {po.PoNumber} has a description like '{line.Description}'."
                    : $"No line of {po.PoNumber} has SKU '{line.Sku}' or a description like '{line.Description}'.");
        }

        var (cumulative, received) = (draft.Cumulative, draft.Received);
        var quantityBase = poLine.ReceiptRequired ? received : poLine.Quantity;
        var variancePercent = poLine.UnitPrice == 0 ? 0 : Math.Round((line.UnitPrice - poLine.UnitPrice) * 100m / poLine.UnitPrice, 2);
        var evidence = new LineEvidence(poLine.UnitPrice, line.UnitPrice, variancePercent, line.Quantity, cumulative, received, poLine.Quantity,
            poLine.ReceiptRequired, quantityBase, po.Version, tolerance, pairing.DescriptionSimilarity);

        var pairedWith = new PairedWithText(po.PoNumber, poLine.LineNo, pairing);
        var quantities = new QuantitiesText(cumulative, quantityBase, poLine.ReceiptRequired);
        var prices = new PricesText(line.UnitPrice, poLine.UnitPrice, variancePercent);
        var (status, explanation) = true switch
        {
            _ when poLine.ReceiptRequired && received == 0 =>
                (LineStatus.NotReceived, $"{pairedWith}: nothing received yet on this 3-way line; it re-matches when the goods receipt arrives."),
            _ when cumulative > tolerance.QuantityCeiling(quantityBase) =>
                (LineStatus.QuantityVariance, $"{pairedWith}: {quantities}, more than quantity tolerance +{tolerance.QuantityPercent}% allows."),
            _ when line.UnitPrice != poLine.UnitPrice && !tolerance.AllowsPrice(poLine.UnitPrice, line.UnitPrice) =>
                (LineStatus.PriceVariance, $"{pairedWith}: {prices} is outside {TextOf(tolerance)}."),
            _ when line.UnitPrice != poLine.UnitPrice =>
                (LineStatus.WithinTolerance, $"{pairedWith}: {prices} is within {TextOf(tolerance)}; {quantities}."),
            _ => (LineStatus.Matched, $"{pairedWith}: price as ordered; {quantities}."),
        };
        return new LineDecision(line.LineNo, line.SourceLine, status, po.PoNumber, poLine.LineNo, pairing.PairedBy, evidence, explanation);
    }

    private string TextOf(ToleranceRule tolerance) => toleranceTexts.TryGetValue(tolerance, out var text) ? text : tolerance.ToString();

    private static InvoiceStatus InvoiceStatusOf(List<LineDecision> lines, TotalsCheck totals)
    {
        var (hasException, awaitsReceipt) = (!totals.AddsUp, false);
        foreach (var line in lines)
        {
            hasException |= line.Status is LineStatus.PriceVariance or LineStatus.QuantityVariance or LineStatus.Unmatched;
            awaitsReceipt |= line.Status == LineStatus.NotReceived;
        }

        return hasException ? InvoiceStatus.Exception : awaitsReceipt ? InvoiceStatus.AwaitingReceipt : InvoiceStatus.Matched;
    }

    private static string ExplainInvoice(InvoiceStatus status, PurchaseOrder po, List<LineDecision> lines, TotalsCheck totals)
    {
        if (status == InvoiceStatus.Matched)
        {
            return $"Matched to {po.PoNumber}: every line is matched or within tolerance and the total adds up; eligible for auto-approval.";
        }

        var problems = new ProblemsText(lines);
        if (status == InvoiceStatus.AwaitingReceipt)
        {
            return $"Awaiting receipt on {po.PoNumber}: {problems}; not an exception yet.";
        }

        var totalsText = totals.AddsUp
            ? ""
            : $" Header total {totals.PrintedTotal} differs from lines plus tax {totals.SumOfLines} by {Format(totals.Difference)} (tolerance ±{Format(totals.Tolerance)}).";
        return lines.Exists(ProblemsText.IsProblem)
            ? $"Exception on {po.PoNumber}: {problems}.{totalsText}"
            : $"Exception on {po.PoNumber}: {totalsText}";
    }

    private InvoiceDecision Unmatched(
        Invoice invoice,
        InvoiceStatus status,
        VendorResolution vendor,
        PoIdentification identification,
        string? duplicateOf,
        TotalsCheck totals,
        string explanation)
    {
        var why = status == InvoiceStatus.Duplicate ? "Not matched: the invoice is a duplicate." : "Not matched: the invoice has no PO.";
        var lines = new List<LineDecision>(invoice.Lines.Count);
        foreach (var line in invoice.Lines)
        {
            lines.Add(new LineDecision(line.LineNo, line.SourceLine, LineStatus.Unmatched, null, null, LinePairedBy.None, null, why));
        }

        return new InvoiceDecision(invoice.Id, invoice.InvoiceNumber, invoice.Origin, status, vendor, identification, duplicateOf, totals,
            InSourceLineOrder(lines), tolerances.Version, explanation);
    }

    private static string Format(decimal value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
