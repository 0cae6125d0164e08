using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// Finds the PO of an invoice that does not reference a usable one, among the vendor's open POs in the invoice's
/// currency ordered on or before the invoice date (a PO placed later cannot be what the invoice bills). A PO is
/// assigned only when it clearly fits and clearly beats every other PO; otherwise the ranked candidates go to a reviewer.
/// </summary>
internal static class PoInference
{
    /// <summary>A PO with at least this share of the invoice lines on it could be the one billed.</summary>
    public const double PlausibleItemOverlap = 0.5;

    /// <summary>
    /// A plausible PO fits clearly at this score when every invoiced quantity fits what is still open on it.
    /// </summary>
    public const double FitScore = 0.75;

    /// <summary>When several POs are plausible, the clear fit must lead each of the others by this much.</summary>
    public const double RequiredLead = 0.15;

    /// <summary>How many ranked candidates a decision keeps for the reviewer.</summary>
    public const int CandidatesKept = 10;

    // Suppliers bill what was delivered, so an invoiced quantity equal to what is still open (or received and not yet
    // billed) tells apart repeat orders of the same items; it only ranks, it never makes a poor fit acceptable.
    private const double ItemWeight = 0.45;
    private const double QuantityWeight = 0.1;
    private const double PriceWeight = 0.2;
    private const double ExactQuantityWeight = 0.25;

    public static (IndexedPurchaseOrder? Chosen, PoCandidate? ChosenCandidate, IReadOnlyList<PoCandidate> Ranked) Infer(
        Invoice invoice,
        InvoiceItems items,
        IEnumerable<IndexedPurchaseOrder> vendorPurchaseOrders,
        ToleranceRule tolerance)
    {
        var scored = new List<(IndexedPurchaseOrder Po, PoCandidate Candidate)>();
        foreach (var po in vendorPurchaseOrders)
        {
            if (po.PurchaseOrder.OrderDate > invoice.InvoiceDate ||
                !string.Equals(po.PurchaseOrder.Currency, invoice.Currency, StringComparison.OrdinalIgnoreCase) ||
                !po.IsOpen)
            {
                continue;
            }

            var candidate = Score(invoice, items, po, tolerance);
            if (candidate.ItemOverlap > 0)
            {
                scored.Add((po, candidate));
            }
        }

        var ranked = scored
            .OrderByDescending(entry => entry.Candidate.Score)
            .ThenBy(entry => entry.Candidate.PoNumber, StringComparer.Ordinal)
            .ToList();
        var rankedCandidates = ranked.Take(CandidatesKept).Select(entry => entry.Candidate).ToList();
        var plausible = ranked.Where(entry => entry.Candidate.ItemOverlap >= PlausibleItemOverlap).ToList();
        var best = plausible.FirstOrDefault(entry => FitsClearly(entry.Candidate));
        if (best.Po is null)
        {
            return (null, null, rankedCandidates);
        }

        // Repeat orders of the same items are common and a wrong guess would consume another PO's quantity, so the clear
        // fit must also lead every other plausible PO; against another clear fit only billing exactly what is open or
        // received on it can give that lead.
        var isClear = plausible.All(other => other.Po == best.Po || best.Candidate.Score - other.Candidate.Score >= RequiredLead);
        return isClear ? (best.Po, best.Candidate, rankedCandidates) : (null, null, rankedCandidates);
    }

    private static bool FitsClearly(PoCandidate candidate) => candidate.Score >= FitScore && candidate.QuantityFit == 1;

    private static PoCandidate Score(
        Invoice invoice,
        InvoiceItems items,
        IndexedPurchaseOrder po,
        ToleranceRule tolerance)
    {
        var pairings = po.Pair(items);
        int paired = 0, quantityFits = 0, priceFits = 0, exactQuantities = 0;
        for (var i = 0; i < pairings.Length; i++)
        {
            if (pairings[i].PoLine is not { } poLine)
            {
                continue;
            }

            paired++;
            var tally = po.Tallies[pairings[i].PoLineIndex];
            var invoiced = tally.Invoiced;
            var stillOpen = poLine.Quantity - invoiced;
            var receivedNotBilled = tally.Received - invoiced;
            var quantity = invoice.Lines[i].Quantity;
            if (invoiced + quantity <= tolerance.QuantityCeiling(poLine.Quantity))
            {
                quantityFits++;
            }

            if (quantity == stillOpen || (poLine.ReceiptRequired && quantity == receivedNotBilled))
            {
                exactQuantities++;
            }

            if (tolerance.AllowsPrice(poLine.UnitPrice, invoice.Lines[i].UnitPrice))
            {
                priceFits++;
            }
        }

        var itemOverlap = invoice.Lines.Count == 0 ? 0 : (double)paired / invoice.Lines.Count;
        var quantityFit = paired == 0 ? 0 : (double)quantityFits / paired;
        var priceFit = paired == 0 ? 0 : (double)priceFits / paired;
        var exactQuantity = paired == 0 ? 0 : (double)exactQuantities / paired;
        var score = ItemWeight * itemOverlap + QuantityWeight * quantityFit + PriceWeight * priceFit + ExactQuantityWeight * exactQuantity;
        return new PoCandidate(po.PurchaseOrder.PoNumber, Math.Round(score, 4), itemOverlap, quantityFit, exactQuantity, priceFit);
    }
}
