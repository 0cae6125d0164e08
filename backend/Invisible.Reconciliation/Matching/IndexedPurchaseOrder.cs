using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Matching;

/// <summary>A PO with its lines looked up by SKU and by description, built once per reconcile.</summary>
internal sealed class IndexedPurchaseOrder
{
    /// <summary>Descriptions at least this alike may pair when no SKU decides.</summary>
    public const double DescriptionThreshold = 0.6;

    /// <summary>The best description must beat the next PO line by this much, or the pairing is too uncertain to make.</summary>
    private const double DescriptionLead = 0.1;

    private readonly Dictionary<string, List<PurchaseOrderLine>> linesBySku = new(StringComparer.Ordinal);
    private readonly (PurchaseOrderLine Line, ItemDescription Description)[] linesWithDescriptions;

    public IndexedPurchaseOrder(PurchaseOrder purchaseOrder)
    {
        PurchaseOrder = purchaseOrder;
        NormalizedNumber = Normalize.PoNumber(purchaseOrder.PoNumber);
        foreach (var line in purchaseOrder.Lines)
        {
            var sku = Normalize.Code(line.Sku);
            if (sku.Length > 0)
            {
                linesBySku.GetOrAddNew(sku).Add(line);
            }
        }

        linesWithDescriptions = purchaseOrder.Lines.Select(line => (line, ItemDescription.Parse(line.Description))).ToArray();
    }

    public PurchaseOrder PurchaseOrder { get; }

    public string NormalizedNumber { get; }

    public IEnumerable<string> DescriptionKeys => linesWithDescriptions.Select(line => line.Description.Key);

    /// <summary>Pairs each invoice line with a PO line: by SKU, else by the clearly most similar unused description.</summary>
    public LinePairing[] Pair(IReadOnlyList<InvoiceLine> invoiceLines, IReadOnlyList<ItemDescription> invoiceDescriptions)
    {
        var pairings = new LinePairing[invoiceLines.Count];
        var used = new HashSet<int>();
        for (var i = 0; i < invoiceLines.Count; i++)
        {
            var sku = Normalize.Code(invoiceLines[i].Sku);
            if (sku.Length > 0 && linesBySku.TryGetValue(sku, out var withSku))
            {
                // The same item may be ordered on two lines (e.g. two delivery dates): bill them in line order.
                var bySku = withSku.FirstOrDefault(line => !used.Contains(line.LineNo)) ?? withSku[0];
                pairings[i] = new LinePairing(bySku, LinePairedBy.Sku, null);
                used.Add(bySku.LineNo);
            }
        }

        for (var i = 0; i < invoiceLines.Count; i++)
        {
            if (pairings[i] is not null)
            {
                continue;
            }

            (PurchaseOrderLine? Line, double Similarity) best = (null, 0), second = (null, 0);
            foreach (var (poLine, description) in linesWithDescriptions)
            {
                if (used.Contains(poLine.LineNo))
                {
                    continue;
                }

                var similarity = invoiceDescriptions[i].SimilarityTo(description);
                if (similarity > best.Similarity)
                {
                    (second, best) = (best, (poLine, similarity));
                }
                else if (similarity > second.Similarity)
                {
                    second = (poLine, similarity);
                }
            }

            var isClear = best.Line is not null && best.Similarity >= DescriptionThreshold &&
                (best.Similarity == 1 || best.Similarity - second.Similarity >= DescriptionLead);
            if (isClear)
            {
                pairings[i] = new LinePairing(best.Line, LinePairedBy.Description, best.Similarity);
                used.Add(best.Line!.LineNo);
            }
            else
            {
                pairings[i] = LinePairing.None;
            }
        }

        return pairings;
    }
}

/// <summary>The PO line an invoice line was paired with, if any.</summary>
internal sealed record LinePairing(PurchaseOrderLine? PoLine, LinePairedBy PairedBy, double? DescriptionSimilarity)
{
    public static LinePairing None { get; } = new(null, LinePairedBy.None, null);
}
