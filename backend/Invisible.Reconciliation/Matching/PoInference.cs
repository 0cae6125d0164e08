using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// Finds the PO of an invoice that does not reference a usable one, among the vendor's open POs in the invoice's
/// currency ordered on or before the invoice date (a PO placed later cannot be what the invoice bills). A PO is
/// assigned only when it clearly fits and clearly beats every other PO; otherwise the ranked candidates go to a reviewer.
/// </summary>
internal sealed class PoInference
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

    /// <summary>The scored POs of the invoice being inferred (reused: a session infers one invoice at a time).</summary>
    private readonly List<Scored> scored = [];

    /// <summary>
    /// Scores every open candidate PO with a line in common, ranks them (score, then PO number) and assigns the first that
    /// fits clearly if it also leads every other plausible PO. Only the kept candidates become <see cref="PoCandidate"/>s.
    /// </summary>
    public (IndexedPurchaseOrder? Chosen, PoCandidate? ChosenCandidate, IReadOnlyList<PoCandidate> Ranked) Infer(
        Invoice invoice,
        InvoiceItems items,
        List<IndexedPurchaseOrder> vendorPurchaseOrders,
        ToleranceRule tolerance)
    {
        scored.Clear();
        var quantityCeilingFactor = tolerance.QuantityCeilingFactor;
        foreach (var po in vendorPurchaseOrders)
        {
            if (po.OrderDate > invoice.InvoiceDate ||
                !string.Equals(po.Currency, invoice.Currency, StringComparison.OrdinalIgnoreCase) ||
                !po.IsOpen)
            {
                continue;
            }

            var candidate = Score(invoice, items, po, tolerance, quantityCeilingFactor, scored.Count);
            if (candidate.ItemOverlap > 0)
            {
                scored.Add(candidate);
            }
        }

        // Ranked by score descending, then PO number, then the order found (what the stable sort this replaces gave): only
        // the kept candidates need their place, so they are picked by insertion; the rest is one pass each.
        var ranked = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(scored);
        Span<int> kept = stackalloc int[CandidatesKept];
        var keptCount = 0;
        var bestAt = -1;
        for (var i = 0; i < ranked.Length; i++)
        {
            var position = keptCount;
            while (position > 0 && RanksBefore(ranked[i], ranked[kept[position - 1]]))
            {
                position--;
            }

            if (position < CandidatesKept)
            {
                for (var j = Math.Min(keptCount, CandidatesKept - 1); j > position; j--)
                {
                    kept[j] = kept[j - 1];
                }

                kept[position] = i;
                keptCount = Math.Min(keptCount + 1, CandidatesKept);
            }

            if (ranked[i].ItemOverlap >= PlausibleItemOverlap && FitsClearly(ranked[i]) && (bestAt < 0 || RanksBefore(ranked[i], ranked[bestAt])))
            {
                bestAt = i;
            }
        }

        var rankedCandidates = new List<PoCandidate>(keptCount);
        PoCandidate? bestCandidate = null;
        foreach (var index in kept[..keptCount])
        {
            rankedCandidates.Add(ranked[index].ToCandidate());
            bestCandidate = index == bestAt ? rankedCandidates[^1] : bestCandidate;
        }

        if (bestAt < 0)
        {
            return (null, null, rankedCandidates);
        }

        // Repeat orders of the same items are common and a wrong guess would consume another PO's quantity, so the clear
        // fit must also lead every other plausible PO; against another clear fit only billing exactly what is open or
        // received on it can give that lead.
        var best = ranked[bestAt];
        foreach (var other in ranked)
        {
            if (other.ItemOverlap >= PlausibleItemOverlap && other.Po != best.Po && !(best.Score - other.Score >= RequiredLead))
            {
                return (null, null, rankedCandidates);
            }
        }

        return (best.Po, bestCandidate ?? best.ToCandidate(), rankedCandidates);
    }

    /// <summary>The ranking order: higher score, then lower PO number (ordinal), then found earlier.</summary>
    private static bool RanksBefore(in Scored candidate, in Scored other)
    {
        if (candidate.Score != other.Score)
        {
            return candidate.Score > other.Score;
        }

        var byNumber = string.CompareOrdinal(candidate.Po.PurchaseOrder.PoNumber, other.Po.PurchaseOrder.PoNumber);
        return byNumber != 0 ? byNumber < 0 : candidate.Found < other.Found;
    }

    private static bool FitsClearly(in Scored candidate) => candidate.Score >= FitScore && candidate.QuantityFit == 1;

    private static Scored Score(
        Invoice invoice,
        InvoiceItems items,
        IndexedPurchaseOrder po,
        ToleranceRule tolerance,
        decimal quantityCeilingFactor,
        int found)
    {
        var pairings = items.PairingBuffer;
        po.Pair(items, pairings);
        int paired = 0, quantityFits = 0, priceFits = 0, exactQuantities = 0;
        for (var i = 0; i < pairings.Length; i++)
        {
            if (pairings[i].PoLine is null)
            {
                continue;
            }

            paired++;
            ref readonly var poLine = ref po.Lines[pairings[i].PoLineIndex];
            var invoiced = po.Invoiced(pairings[i].PoLineIndex);
            var stillOpen = poLine.Quantity - invoiced;
            var receivedNotBilled = po.Received(pairings[i].PoLineIndex) - invoiced;
            var quantity = invoice.Lines[i].Quantity;
            // A factor of one (no quantity tolerance, the default) leaves the ordered quantity as it is.
            if (invoiced + quantity <= (quantityCeilingFactor == 1 ? poLine.Quantity : poLine.Quantity * quantityCeilingFactor))
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
        return new Scored(po, Math.Round(score, 4), itemOverlap, quantityFit, exactQuantity, priceFit, found);
    }

    /// <summary>A scored candidate before it is kept; <see cref="Found"/> is its position among the candidates.</summary>
    private readonly record struct Scored(
        IndexedPurchaseOrder Po, double Score, double ItemOverlap, double QuantityFit, double ExactQuantity, double PriceFit, int Found)
    {
        public PoCandidate ToCandidate() => new(Po.PurchaseOrder.PoNumber, Score, ItemOverlap, QuantityFit, ExactQuantity, PriceFit);
    }
}
