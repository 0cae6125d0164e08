using System.Globalization;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Text;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// The matching state of one tenant: master data indexed once, the quantity ledger and the invoices seen so far.
/// Invoices must be given in processing order (invoice date, then file order); each <see cref="Match"/> decides one
/// invoice against everything before it, which is what matching a newly imported invoice incrementally means.
/// Not thread-safe: one session per tenant per reconcile.
/// </summary>
public sealed class MatchingSession
{
    private readonly VendorResolver vendorResolver;
    private readonly Tolerances tolerances;
    private readonly IReadOnlySet<string> confirmedNotDuplicates;
    private readonly Dictionary<string, IndexedPurchaseOrder[]> purchaseOrdersByNumber = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IndexedPurchaseOrder[]>.AlternateLookup<ReadOnlySpan<char>> purchaseOrdersByNormalizedSpan;
    private readonly Dictionary<string, VendorPurchaseOrders> purchaseOrdersByVendor = new(StringComparer.Ordinal);
    private readonly QuantityLedger ledger;
    private readonly ItemCatalog catalog = new();
    private readonly DuplicateRegister duplicates = new();
    private readonly List<InvoiceDecision> decisions = [];

    // Working state of the invoice being matched, reused from one invoice to the next (a session matches one at a time).
    private readonly InvoiceItems items = new();
    private readonly List<IndexedPurchaseOrder> candidates = [];
    private readonly PoInference inference = new();
    private readonly Dictionary<ToleranceRule, string> toleranceTexts = new(ReferenceEqualityComparer.Instance);

    public MatchingSession(TenantSnapshot masterData, Tolerances tolerances, SimilarityModel? model = null)
    {
        this.tolerances = tolerances;
        SimilarityModel = model ?? masterData.SimilarityModel ?? SimilarityModel.Prior;
        vendorResolver = new VendorResolver(new VendorDirectory(masterData.Vendors), SimilarityModel);
        confirmedNotDuplicates = masterData.ConfirmedNotDuplicateInvoiceIds;
        var lineCount = 0;
        foreach (var purchaseOrder in masterData.PurchaseOrders)
        {
            lineCount += purchaseOrder.Lines.Count;
        }

        ledger = new QuantityLedger(lineCount);
        var indexedPurchaseOrders = new IndexedPurchaseOrder[masterData.PurchaseOrders.Count];
        purchaseOrdersByNumber.EnsureCapacity(indexedPurchaseOrders.Length);
        for (var i = 0; i < indexedPurchaseOrders.Length; i++)
        {
            var indexed = new IndexedPurchaseOrder(masterData.PurchaseOrders[i], ledger, catalog);
            indexedPurchaseOrders[i] = indexed;
            // Normalised numbers are unique in practice: the rare clash grows an array rather than every PO having a list.
            purchaseOrdersByNumber[indexed.NormalizedNumber] = purchaseOrdersByNumber.TryGetValue(indexed.NormalizedNumber, out var same)
                ? [.. same, indexed]
                : [indexed];
        }

        // Each vendor's lists of POs by item are in order date order (then snapshot order), so that a look-up stops at the
        // first PO placed after the invoice date instead of skipping every later one.
        var byOrderDate = (IndexedPurchaseOrder[])indexedPurchaseOrders.Clone();
        var orderDates = new long[byOrderDate.Length];
        for (var i = 0; i < orderDates.Length; i++)
        {
            orderDates[i] = ((long)byOrderDate[i].PurchaseOrder.OrderDate.DayNumber << 32) | (uint)i;
        }

        Array.Sort(orderDates, byOrderDate);
        foreach (var indexed in byOrderDate)
        {
            purchaseOrdersByVendor.GetOrAddNew(indexed.PurchaseOrder.VendorCode).Add(indexed);
        }

        purchaseOrdersByNormalizedSpan = purchaseOrdersByNumber.GetAlternateLookup<ReadOnlySpan<char>>();

        foreach (var receipt in masterData.Receipts)
        {
            Receive(receipt);
        }
    }

    public SimilarityModel SimilarityModel { get; }

    /// <summary>The decisions so far, in results order (import order, then source line).</summary>
    public ReconciliationResult Result => new(InResultsOrder(decisions), tolerances.Version, SimilarityModel.Version);

    /// <summary>
    /// Books a goods receipt. Decisions already made are not rewritten; a full reconcile re-evaluates them
    /// (receipts count whatever their date).
    /// </summary>
    public void Receive(ReceiptLine receipt) => ledger.Receive(receipt.PoNumber, receipt.PoLineNo, receipt.QuantityReceived);

    public InvoiceDecision Match(Invoice invoice)
    {
        var referenced = FindReferencedPurchaseOrders(invoice.PrintedPoReference);
        return Decide(invoice, referenced, vendorResolver.Resolve(invoice.PrintedVendorName, invoice.PrintedTaxId, VendorOf(referenced)));
    }

    /// <summary>
    /// Matches many invoices, given in processing order, as <see cref="Match"/> one by one would: what does not depend on
    /// earlier decisions (the referenced POs, the vendor) is worked out first for all of them over all cores, then each
    /// invoice is decided in order against the ledger.
    /// </summary>
    internal void MatchAll(IReadOnlyList<Invoice> inProcessingOrder) => DecideAll(inProcessingOrder, Prepare(inProcessingOrder));

    /// <summary>
    /// The referenced POs and the vendor of each invoice, in the order given. Vendor resolution depends only on what is
    /// printed and on the master data, never on earlier decisions, so it is done for all invoices at once.
    /// </summary>
    internal PreparedInvoices Prepare(IReadOnlyList<Invoice> invoices)
    {
        var referenced = new IndexedPurchaseOrder[invoices.Count][];
        var printed = new (string PrintedName, string? PrintedTaxId, Vendor? ReferencedPoVendor)[invoices.Count];
        // Only reads of the index: the look-ups of many invoices run side by side.
        Parallel.For(0, invoices.Count, i =>
        {
            referenced[i] = FindReferencedPurchaseOrders(invoices[i].PrintedPoReference);
            printed[i] = (invoices[i].PrintedVendorName, invoices[i].PrintedTaxId, VendorOf(referenced[i]));
        });
        return new PreparedInvoices(referenced, vendorResolver.ResolveAll(printed));
    }

    /// <summary>Decides prepared invoices in the order given (processing order), each against everything before it.</summary>
    internal void DecideAll(IReadOnlyList<Invoice> invoices, PreparedInvoices prepared)
    {
        decisions.EnsureCapacity(decisions.Count + invoices.Count);
        for (var i = 0; i < invoices.Count; i++)
        {
            Decide(invoices[i], prepared.Referenced[i], prepared.Vendors[i]);
        }
    }

    private InvoiceDecision Decide(Invoice invoice, IndexedPurchaseOrder[] referenced, VendorResolution vendor)
    {
        var tolerance = tolerances.For(vendor.Vendor?.Code);
        var totals = new TotalsCheck(invoice.Total, new Money(invoice.SumOfLines, invoice.Currency), tolerance.InvoiceTotalAbsolute);

        InvoiceDecision decision;
        if (vendor.Vendor is null)
        {
            decision = Unmatched(invoice, InvoiceStatus.NoPo, vendor, PoIdentification.NotAttempted("No PO is looked for without a vendor."), null, totals,
                $"No PO: the vendor could not be identified. {vendor.Explanation}");
        }
        else if (duplicates.FindOriginalOrRegister(vendor.Vendor.Code, invoice, !confirmedNotDuplicates.Contains(invoice.Id)) is { } original)
        {
            decision = Unmatched(invoice, InvoiceStatus.Duplicate, vendor, PoIdentification.NotAttempted("A duplicate is not matched to a PO."),
                original.Original.Id, totals,
                $"Duplicate of invoice '{original.Original.InvoiceNumber}' of {original.Original.InvoiceDate:yyyy-MM-dd} from {vendor.Vendor.Code}: {original.Reason}. It consumes no PO quantity.");
        }
        else
        {
            decision = MatchToPurchaseOrder(invoice, vendor, referenced, tolerance, totals);
        }

        decisions.Add(decision);
        return decision;
    }

    /// <summary>The vendor of the referenced PO, when the reference names POs of exactly one vendor.</summary>
    private Vendor? VendorOf(IndexedPurchaseOrder[] referenced)
    {
        if (referenced.Length == 0)
        {
            return null;
        }

        var code = referenced[0].PurchaseOrder.VendorCode;
        foreach (var po in referenced)
        {
            if (!string.Equals(po.PurchaseOrder.VendorCode, code, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return vendorResolver.Directory.FindByCode(code);
    }

    /// <summary>The POs whose normalised number is the printed reference's, normalised on the stack: every invoice looks one up.</summary>
    private IndexedPurchaseOrder[] FindReferencedPurchaseOrders(string? printedReference)
    {
        if (string.IsNullOrEmpty(printedReference))
        {
            return [];
        }

        Span<char> buffer = printedReference.Length <= 256 ? stackalloc char[printedReference.Length] : new char[printedReference.Length];
        var normalized = Normalize.PoNumber(printedReference, buffer);
        return normalized.Length > 0 && purchaseOrdersByNormalizedSpan.TryGetValue(normalized, out var found) ? found : [];
    }

    private InvoiceDecision MatchToPurchaseOrder(
        Invoice invoice,
        VendorResolution vendor,
        IndexedPurchaseOrder[] referenced,
        ToleranceRule tolerance,
        TotalsCheck totals)
    {
        var vendorCode = vendor.Vendor!.Code;
        items.Prepare(invoice.Lines, catalog);
        var ofVendor = Array.Find(referenced, po => po.PurchaseOrder.VendorCode == vendorCode);
        IndexedPurchaseOrder? chosen;
        PoIdentification identification;
        if (ofVendor is not null)
        {
            chosen = ofVendor;
            identification = new PoIdentification(chosen.PurchaseOrder.PoNumber, chosen.PurchaseOrder.Version, PoIdentifiedBy.PrintedReference, [],
                $"PO {chosen.PurchaseOrder.PoNumber} from the printed reference '{invoice.PrintedPoReference}'.");
        }
        else
        {
            var why = string.IsNullOrWhiteSpace(invoice.PrintedPoReference)
                ? "No PO reference printed"
                : referenced.Length == 0
                    ? $"Printed PO reference '{invoice.PrintedPoReference}' is unknown"
                    : $"Printed PO reference '{invoice.PrintedPoReference}' is a PO of another vendor";
            candidates.Clear();
            purchaseOrdersByVendor.GetValueOrDefault(vendorCode)?.SharingItemsWith(items, invoice.InvoiceDate, candidates);
            var (inferred, inferredCandidate, ranked) = inference.Infer(invoice, items, candidates, tolerance);
            chosen = inferred;
            identification = inferred is null
                ? new PoIdentification(null, null, PoIdentifiedBy.None, ranked,
                    ranked.Count == 0
                        ? $"{why}; no open PO of {vendorCode} ordered by the invoice date has any of the invoiced items."
                        : $"{why}; no single open PO of {vendorCode} clearly fits. Candidates: {new CandidatesText(ranked, 3)}.")
                : new PoIdentification(inferred.PurchaseOrder.PoNumber, inferred.PurchaseOrder.Version, PoIdentifiedBy.Inferred, ranked,
                    NextAfter(ranked, inferredCandidate!) is { } next
                        ? $"{why}; inferred {inferredCandidate}, ahead of {next}."
                        : $"{why}; inferred {inferredCandidate}, the only open PO with these items.");
        }

        if (chosen is null)
        {
            return Unmatched(invoice, InvoiceStatus.NoPo, vendor, identification, null, totals, $"No PO: {identification.Explanation}");
        }

        var pairings = items.PairingBuffer;
        chosen.Pair(items, pairings);
        var lines = new List<LineDecision>(invoice.Lines.Count);
        for (var i = 0; i < invoice.Lines.Count; i++)
        {
            lines.Add(DecideLine(invoice.Lines[i], chosen, pairings[i], tolerance));
        }

        if (!chosen.IsOpen)
        {
            purchaseOrdersByVendor[chosen.PurchaseOrder.VendorCode].Close(chosen);
        }

        var status = InvoiceStatusOf(lines, totals);
        return new InvoiceDecision(invoice.Id, invoice.InvoiceNumber, invoice.Origin, status, vendor, identification, null, totals,
            InSourceLineOrder(lines), tolerances.Version, ExplainInvoice(status, chosen.PurchaseOrder, lines, totals));
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

    private LineDecision DecideLine(InvoiceLine line, IndexedPurchaseOrder indexed, LinePairing pairing, ToleranceRule tolerance)
    {
        var po = indexed.PurchaseOrder;
        if (pairing.PoLine is not { } poLine)
        {
            return new LineDecision(line.LineNo, line.SourceLine, LineStatus.Unmatched, null, null, LinePairedBy.None, null,
                string.IsNullOrWhiteSpace(line.Sku)
                    ? $"No line of {po.PoNumber} has a description like '{line.Description}'."
                    : $"No line of {po.PoNumber} has SKU '{line.Sku}' or a description like '{line.Description}'.");
        }

        var cumulative = indexed.Invoice(pairing.PoLineIndex, line.Quantity);
        var received = indexed.Received(pairing.PoLineIndex);
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

    /// <summary>The tolerance as explanations quote it, made once per rule: every price line quotes the one it was held to.</summary>
    private string TextOf(ToleranceRule tolerance)
    {
        if (!toleranceTexts.TryGetValue(tolerance, out var text))
        {
            text = tolerance.ToString();
            toleranceTexts[tolerance] = text;
        }

        return text;
    }

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

        lines = InSourceLineOrder(lines);
        return new InvoiceDecision(invoice.Id, invoice.InvoiceNumber, invoice.Origin, status, vendor, identification, duplicateOf, totals, lines,
            tolerances.Version, explanation);
    }

    /// <summary>Import order, then invoice id; the order of deciding breaks full ties (as a stable sort would).</summary>
    private static List<InvoiceDecision> InResultsOrder(List<InvoiceDecision> decided)
    {
        var ordered = decided.ToArray();
        var keys = new ResultsKey[ordered.Length];
        for (var i = 0; i < ordered.Length; i++)
        {
            keys[i] = new ResultsKey(ordered[i].Origin, ordered[i].InvoiceId, i);
        }

        Array.Sort(keys, ordered);
        return [.. ordered];
    }

    private readonly record struct ResultsKey(ImportOrigin Origin, string InvoiceId, int Position) : IComparable<ResultsKey>
    {
        public int CompareTo(ResultsKey other)
        {
            var order = Origin.CompareTo(other.Origin);
            if (order == 0)
            {
                order = string.CompareOrdinal(InvoiceId, other.InvoiceId);
            }

            return order != 0 ? order : Position.CompareTo(other.Position);
        }
    }

    private static string Format(decimal value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}

/// <summary>What <see cref="MatchingSession.Prepare"/> worked out for each invoice, in the order they were given.</summary>
internal sealed record PreparedInvoices(IndexedPurchaseOrder[][] Referenced, IReadOnlyList<VendorResolution> Vendors);
