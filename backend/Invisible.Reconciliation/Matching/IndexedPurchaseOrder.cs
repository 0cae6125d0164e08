using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// A PO with its lines' normalised SKUs and parsed descriptions and each line's quantity tally at hand, built once per
/// reconcile. Pairing is the innermost loop of PO inference (every open candidate PO of the vendor is paired with the
/// invoice), so it works on line indexes and the invoice's prepared items and writes into a buffer the caller owns.
/// </summary>
internal sealed class IndexedPurchaseOrder
{
    /// <summary>Descriptions at least this alike may pair when no SKU decides.</summary>
    public const double DescriptionThreshold = 0.6;

    /// <summary>The best description must beat the next PO line by this much, or the pairing is too uncertain to make.</summary>
    private const double DescriptionLead = 0.1;

    /// <summary>Up to this many lines a SKU is found by scanning them (POs have a handful); larger POs index their SKUs.</summary>
    private const int ScannedLines = 16;

    private readonly IReadOnlyList<PurchaseOrderLine> lines;

    /// <summary>Each line's normalised SKU, "" when it has none; equal SKUs are mostly the same string instance.</summary>
    private readonly string[] lineSkus;

    /// <summary>Line indexes by SKU, in line order; only for POs with more than <see cref="ScannedLines"/> lines.</summary>
    private readonly Dictionary<string, List<int>>? lineIndexesBySku;

    private readonly ItemDescription[] descriptions;

    /// <summary>
    /// For each line, the index of the first line with its line number: a line number is "used" once. Null when every line
    /// number is distinct (always, for stored POs), which means each line is its own slot.
    /// </summary>
    private readonly int[]? lineNumberSlots;

    public IndexedPurchaseOrder(PurchaseOrder purchaseOrder, QuantityLedger ledger, ItemCatalog catalog)
    {
        PurchaseOrder = purchaseOrder;
        NormalizedNumber = Text.Normalize.PoNumber(purchaseOrder.PoNumber);
        lines = purchaseOrder.Lines;
        lineSkus = new string[lines.Count];
        descriptions = new ItemDescription[lines.Count];
        Tallies = new LineTally[lines.Count];
        var skus = new List<string>(lines.Count);
        var descriptionKeys = new List<string>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var sku = catalog.Sku(lines[i].Sku);
            lineSkus[i] = sku;
            if (sku.Length > 0 && !skus.Contains(sku, StringComparer.Ordinal))
            {
                skus.Add(sku);
            }

            descriptions[i] = catalog.Description(lines[i].Description);
            if (!descriptionKeys.Contains(descriptions[i].Key, StringComparer.Ordinal))
            {
                descriptionKeys.Add(descriptions[i].Key);
            }

            for (var j = 0; j < i; j++)
            {
                if (lines[j].LineNo == lines[i].LineNo)
                {
                    lineNumberSlots ??= Enumerable.Range(0, lines.Count).ToArray();
                    lineNumberSlots[i] = j;
                    break;
                }
            }

            Tallies[i] = ledger.Tally(purchaseOrder.PoNumber, lines[i].LineNo);
        }

        if (lines.Count > ScannedLines)
        {
            lineIndexesBySku = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (var i = 0; i < lines.Count; i++)
            {
                if (lineSkus[i].Length > 0)
                {
                    lineIndexesBySku.GetOrAddNew(lineSkus[i]).Add(i);
                }
            }
        }

        Skus = [.. skus];
        DescriptionKeys = [.. descriptionKeys];
    }

    public PurchaseOrder PurchaseOrder { get; }

    public string NormalizedNumber { get; }

    /// <summary>The distinct normalised SKUs on the PO.</summary>
    public string[] Skus { get; }

    /// <summary>The distinct description keys on the PO.</summary>
    public string[] DescriptionKeys { get; }

    /// <summary>The quantity tally of each line, in line order.</summary>
    public LineTally[] Tallies { get; }

    /// <summary>Where <see cref="VendorPurchaseOrders"/> keeps this PO among the vendor's open ones; -1 once it is closed there.</summary>
    internal int OpenPosition { get; set; } = -1;

    /// <summary>The last look-up of <see cref="VendorPurchaseOrders"/> that found this PO: each PO is listed once per look-up.</summary>
    internal int LastFoundBy { get; set; }

    /// <summary>Open: some line of the PO still has quantity that has not been invoiced.</summary>
    public bool IsOpen
    {
        get
        {
            for (var i = 0; i < Tallies.Length; i++)
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
        var pairings = new LinePairing[items.Count];
        Pair(items, pairings);
        return pairings;
    }

    /// <summary><see cref="Pair(InvoiceItems)"/> into <paramref name="pairings"/>, one per invoice line (at least <see cref="InvoiceItems.Count"/> long).</summary>
    public void Pair(InvoiceItems items, Span<LinePairing> pairings)
    {
        pairings[..items.Count].Clear();
        Span<bool> used = lines.Count <= 256 ? stackalloc bool[lines.Count] : new bool[lines.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var sku = items.Skus[i];
            if (sku.Length > 0 && LineWithSku(sku, used) is var chosen and >= 0)
            {
                pairings[i] = new LinePairing(lines[chosen], LinePairedBy.Sku, null, chosen);
                used[Slot(chosen)] = true;
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
                if (used[Slot(index)])
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
                used[Slot(best.Index)] = true;
            }
        }
    }

    /// <summary>
    /// The line a SKU bills: the same item may be ordered on two lines (e.g. two delivery dates), so the first in line order
    /// whose line number is not used yet, else the first with the SKU; -1 when no line has it.
    /// </summary>
    private int LineWithSku(string sku, ReadOnlySpan<bool> used)
    {
        if (lineIndexesBySku is not null)
        {
            if (!lineIndexesBySku.TryGetValue(sku, out var withSku))
            {
                return -1;
            }

            foreach (var index in withSku)
            {
                if (!used[Slot(index)])
                {
                    return index;
                }
            }

            return withSku[0];
        }

        var first = -1;
        for (var index = 0; index < lineSkus.Length; index++)
        {
            if (string.Equals(lineSkus[index], sku, StringComparison.Ordinal))
            {
                if (!used[Slot(index)])
                {
                    return index;
                }

                first = first < 0 ? index : first;
            }
        }

        return first;
    }

    private int Slot(int index) => lineNumberSlots is null ? index : lineNumberSlots[index];
}

/// <summary>The PO line an invoice line was paired with, if any (<c>default</c> is "not paired").</summary>
/// <param name="PoLineIndex">Position of <see cref="PoLine"/> in the PO's lines, -1 when not paired.</param>
internal readonly record struct LinePairing(PurchaseOrderLine? PoLine, LinePairedBy PairedBy, double? DescriptionSimilarity, int PoLineIndex = -1);

/// <summary>
/// An invoice's lines prepared once for pairing against any number of POs: normalised SKUs and parsed descriptions. The
/// session prepares each invoice in the same instance (<see cref="Prepare"/>), with a pairing buffer for its candidates.
/// </summary>
internal sealed class InvoiceItems
{
    private string[] skus = [];
    private ItemDescription[] descriptions = [];
    private LinePairing[] pairings = [];

    public InvoiceItems()
    {
    }

    public InvoiceItems(IReadOnlyList<InvoiceLine> lines, ItemCatalog catalog) => Prepare(lines, catalog);

    public int Count { get; private set; }

    public ReadOnlySpan<string> Skus => skus.AsSpan(0, Count);

    public ReadOnlySpan<ItemDescription> Descriptions => descriptions.AsSpan(0, Count);

    /// <summary>Room for one pairing per line, reused for every PO the invoice is paired with.</summary>
    public Span<LinePairing> PairingBuffer => pairings.AsSpan(0, Count);

    public void Prepare(IReadOnlyList<InvoiceLine> lines, ItemCatalog catalog)
    {
        Count = lines.Count;
        if (skus.Length < lines.Count)
        {
            skus = new string[lines.Count];
            descriptions = new ItemDescription[lines.Count];
            pairings = new LinePairing[lines.Count];
        }

        for (var i = 0; i < lines.Count; i++)
        {
            skus[i] = catalog.Sku(lines[i].Sku);
            descriptions[i] = catalog.Description(lines[i].Description);
        }
    }
}
