using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// A PO with its lines looked up by SKU and by description and each line's quantity tally at hand, built once per
/// reconcile. Pairing is the innermost loop of PO inference (every open candidate PO of the vendor is paired with the
/// invoice), so it works on line indexes and the invoice's prepared items and allocates only the result.
/// </summary>
internal sealed class IndexedPurchaseOrder
{
    /// <summary>Descriptions at least this alike may pair when no SKU decides.</summary>
    public const double DescriptionThreshold = 0.6;

    /// <summary>The best description must beat the next PO line by this much, or the pairing is too uncertain to make.</summary>
    private const double DescriptionLead = 0.1;

    private readonly Dictionary<string, List<int>> lineIndexesBySku = new(StringComparer.Ordinal);
    private readonly ItemDescription[] descriptions;

    /// <summary>For each line, the index of the first line with its line number: a line number is "used" once, as before.</summary>
    private readonly int[] lineNumberSlots;

    public IndexedPurchaseOrder(PurchaseOrder purchaseOrder, QuantityLedger ledger, ItemDescriptions itemDescriptions)
    {
        PurchaseOrder = purchaseOrder;
        NormalizedNumber = Normalize.PoNumber(purchaseOrder.PoNumber);
        var lines = purchaseOrder.Lines;
        descriptions = new ItemDescription[lines.Count];
        lineNumberSlots = new int[lines.Count];
        Tallies = new LineTally[lines.Count];
        var skus = new List<string>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var sku = Normalize.Code(lines[i].Sku);
            if (sku.Length > 0)
            {
                lineIndexesBySku.GetOrAddNew(sku).Add(i);
                if (!skus.Contains(sku, StringComparer.Ordinal))
                {
                    skus.Add(sku);
                }
            }

            descriptions[i] = itemDescriptions.Of(lines[i].Description);
            lineNumberSlots[i] = i;
            for (var j = 0; j < i; j++)
            {
                if (lines[j].LineNo == lines[i].LineNo)
                {
                    lineNumberSlots[i] = j;
                    break;
                }
            }

            Tallies[i] = ledger.Tally(purchaseOrder.PoNumber, lines[i].LineNo);
        }

        Skus = skus;
        DescriptionKeys = descriptions.Select(description => description.Key).Distinct(StringComparer.Ordinal).ToArray();
    }

    public PurchaseOrder PurchaseOrder { get; }

    public string NormalizedNumber { get; }

    /// <summary>The distinct normalised SKUs on the PO.</summary>
    public IReadOnlyList<string> Skus { get; }

    /// <summary>The distinct description keys on the PO.</summary>
    public IReadOnlyList<string> DescriptionKeys { get; }

    /// <summary>The quantity tally of each line, in line order.</summary>
    public LineTally[] Tallies { get; }

    /// <summary>Open: some line of the PO still has quantity that has not been invoiced.</summary>
    public bool IsOpen
    {
        get
        {
            var lines = PurchaseOrder.Lines;
            for (var i = 0; i < lines.Count; i++)
            {
                if (Tallies[i].Invoiced < lines[i].Quantity)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Pairs each invoice line with a PO line: by SKU, else by the clearly most similar unused description.</summary>
    public LinePairing[] Pair(InvoiceItems items)
    {
        var lines = PurchaseOrder.Lines;
        var pairings = new LinePairing[items.Count];
        Span<bool> used = lines.Count <= 256 ? stackalloc bool[lines.Count] : new bool[lines.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var sku = items.Skus[i];
            if (sku.Length > 0 && lineIndexesBySku.TryGetValue(sku, out var withSku))
            {
                // The same item may be ordered on two lines (e.g. two delivery dates): bill them in line order.
                var chosen = withSku[0];
                foreach (var index in withSku)
                {
                    if (!used[lineNumberSlots[index]])
                    {
                        chosen = index;
                        break;
                    }
                }

                pairings[i] = new LinePairing(lines[chosen], LinePairedBy.Sku, null, chosen);
                used[lineNumberSlots[chosen]] = true;
            }
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (pairings[i].PoLine is not null)
            {
                continue;
            }

            (int Index, double Similarity) best = (-1, 0), second = (-1, 0);
            for (var index = 0; index < lines.Count; index++)
            {
                if (used[lineNumberSlots[index]])
                {
                    continue;
                }

                var similarity = items.Descriptions[i].SimilarityTo(descriptions[index]);
                if (similarity > best.Similarity)
                {
                    (second, best) = (best, (index, similarity));
                }
                else if (similarity > second.Similarity)
                {
                    second = (index, similarity);
                }
            }

            var isClear = best.Index >= 0 && best.Similarity >= DescriptionThreshold &&
                (best.Similarity == 1 || best.Similarity - second.Similarity >= DescriptionLead);
            if (isClear)
            {
                pairings[i] = new LinePairing(lines[best.Index], LinePairedBy.Description, best.Similarity, best.Index);
                used[lineNumberSlots[best.Index]] = true;
            }
        }

        return pairings;
    }
}

/// <summary>The PO line an invoice line was paired with, if any (<c>default</c> is "not paired").</summary>
/// <param name="PoLineIndex">Position of <see cref="PoLine"/> in the PO's lines, -1 when not paired.</param>
internal readonly record struct LinePairing(PurchaseOrderLine? PoLine, LinePairedBy PairedBy, double? DescriptionSimilarity, int PoLineIndex = -1);

/// <summary>An invoice's lines prepared once for pairing against any number of POs: normalised SKUs and parsed descriptions.</summary>
internal sealed class InvoiceItems
{
    public InvoiceItems(IReadOnlyList<InvoiceLine> lines, ItemDescriptions itemDescriptions)
    {
        Skus = new string[lines.Count];
        Descriptions = new ItemDescription[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            Skus[i] = Normalize.Code(lines[i].Sku);
            Descriptions[i] = itemDescriptions.Of(lines[i].Description);
        }
    }

    public int Count => Skus.Length;

    public string[] Skus { get; }

    public ItemDescription[] Descriptions { get; }
}
