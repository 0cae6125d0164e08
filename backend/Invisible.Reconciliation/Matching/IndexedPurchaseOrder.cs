using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// A PO with what matching reads of its lines in one table (normalised SKU, parsed description, quantity, price, ledger
/// slot), built once per reconcile. Pairing and scoring are the innermost loop of PO inference (every open candidate PO
/// of the vendor is paired with the invoice), so they work on line indexes into that table and the invoice's prepared
/// items, and write into a buffer the caller owns.
/// </summary>
internal sealed class IndexedPurchaseOrder
{
    /// <summary>Descriptions at least this alike may pair when no SKU decides.</summary>
    public const double DescriptionThreshold = 0.6;

    /// <summary>The best description must beat the next PO line by this much, or the pairing is too uncertain to make.</summary>
    private const double DescriptionLead = 0.1;

    /// <summary>Up to this many lines a SKU is found by scanning them (POs have a handful); larger POs index their SKUs.</summary>
    private const int ScannedLines = 16;

    private readonly QuantityLedger ledger;

    /// <summary>How many lines still have quantity not invoiced; kept by <see cref="Invoice"/>, read by <see cref="IsOpen"/>.</summary>
    private int openLines;

    /// <summary>Whether every line's ledger slot is its own (known once all POs are indexed, so worked out on first need).</summary>
    private bool? ownSlots;

    /// <summary>Line indexes by SKU, in line order; only for POs with more than <see cref="ScannedLines"/> lines.</summary>
    private readonly Dictionary<string, List<int>>? lineIndexesBySku;

    public IndexedPurchaseOrder(PurchaseOrder purchaseOrder, QuantityLedger ledger, ItemCatalog catalog)
        : this(purchaseOrder, ledger, catalog, purchaseOrder.Lines.Select(line => ledger.LineSlot(purchaseOrder.PoNumber, line.LineNo)).ToArray(), 0)
    {
    }

    /// <summary>
    /// Indexes a PO whose lines have their ledger slots already (<see cref="QuantityLedger.LineSlot"/>, at
    /// <paramref name="firstSlot"/> in <paramref name="ledgerSlots"/>, in line order): touches nothing shared but the
    /// thread-safe catalog, so many POs are indexed side by side.
    /// </summary>
    public IndexedPurchaseOrder(PurchaseOrder purchaseOrder, QuantityLedger ledger, ItemCatalog catalog, int[] ledgerSlots, int firstSlot)
    {
        PurchaseOrder = purchaseOrder;
        NormalizedNumber = Text.Normalize.PoNumber(purchaseOrder.PoNumber);
        OrderDate = purchaseOrder.OrderDate;
        Currency = catalog.Currency(purchaseOrder.Currency);
        this.ledger = ledger;
        var lines = purchaseOrder.Lines;
        Lines = new IndexedLine[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            var sku = catalog.Sku(lines[i].Sku);
            var description = catalog.Description(lines[i].Description);
            var slot = i;
            for (var j = 0; j < i; j++)
            {
                if (lines[j].LineNo == lines[i].LineNo)
                {
                    slot = j;
                    break;
                }
            }

            Lines[i] = new IndexedLine(lines[i], sku, description, slot, ledgerSlots[firstSlot + i]);
            openLines += 0 < lines[i].Quantity ? 1 : 0;
        }

        Skus = Distinct(Lines, line => line.Sku.Length > 0 ? line.Sku : null);
        DescriptionKeys = Distinct(Lines, line => line.Description.Key);

        if (lines.Count > ScannedLines)
        {
            lineIndexesBySku = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (var i = 0; i < lines.Count; i++)
            {
                if (Lines[i].Sku.Length > 0)
                {
                    lineIndexesBySku.GetOrAddNew(Lines[i].Sku).Add(i);
                }
            }
        }
    }

    public PurchaseOrder PurchaseOrder { get; }

    public string NormalizedNumber { get; }

    /// <summary>The PO's order date, kept here so that filtering candidates does not read the PO itself.</summary>
    public DateOnly OrderDate { get; }

    /// <summary>The PO's currency, one string instance per currency in the session.</summary>
    public string Currency { get; }

    /// <summary>The lines, in line order, with what matching reads of them.</summary>
    public IndexedLine[] Lines { get; }

    /// <summary>The distinct normalised SKUs on the PO.</summary>
    public string[] Skus { get; }

    /// <summary>The distinct description keys on the PO.</summary>
    public string[] DescriptionKeys { get; }

    /// <summary>The distinct non-null values of the lines, in line order (a PO has a handful of lines: no set needed).</summary>
    private static string[] Distinct(IndexedLine[] lines, Func<IndexedLine, string?> valueOf)
    {
        Span<int> firsts = lines.Length <= 64 ? stackalloc int[lines.Length] : new int[lines.Length];
        var count = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var value = valueOf(lines[i]);
            var isNew = value is not null;
            for (var j = 0; j < count && isNew; j++)
            {
                isNew = !string.Equals(valueOf(lines[firsts[j]]), value, StringComparison.Ordinal);
            }

            if (isNew)
            {
                firsts[count++] = i;
            }
        }

        var distinct = new string[count];
        for (var i = 0; i < count; i++)
        {
            distinct[i] = valueOf(lines[firsts[i]])!;
        }

        return distinct;
    }

    /// <summary>Quantity received so far on line <paramref name="index"/>.</summary>
    public decimal Received(int index) => ledger.Received(Lines[index].LedgerSlot);

    /// <summary>Quantity invoiced so far on line <paramref name="index"/>.</summary>
    public decimal Invoiced(int index) => ledger.Invoiced(Lines[index].LedgerSlot);

    /// <summary>Books an invoiced quantity on line <paramref name="index"/>; returns the new cumulative quantity.</summary>
    public decimal Invoice(int index, decimal quantity)
    {
        ref readonly var line = ref Lines[index];
        var wasOpen = ledger.Invoiced(line.LedgerSlot) < line.Quantity;
        var cumulative = ledger.Invoice(line.LedgerSlot, quantity);
        openLines += (cumulative < line.Quantity ? 1 : 0) - (wasOpen ? 1 : 0);
        return cumulative;
    }

    /// <summary>Where <see cref="VendorPurchaseOrders"/> keeps this PO among the vendor's open ones; -1 once it is closed there.</summary>
    internal int OpenPosition { get; set; } = -1;

    /// <summary>The last look-up of <see cref="VendorPurchaseOrders"/> that found this PO: each PO is listed once per look-up.</summary>
    internal int LastFoundBy { get; set; }

    /// <summary>The lists by item of <see cref="VendorPurchaseOrders"/> this PO is on, so that closing it needs no look-ups.</summary>
    internal VendorPurchaseOrders.ItemPostings[] ItemLists { get; set; } = [];

    /// <summary>This PO's position in each of <see cref="ItemLists"/>.</summary>
    internal int[] ItemPositions { get; set; } = [];

    /// <summary>Told by a list by item that compacting it moved this PO to <paramref name="position"/>.</summary>
    internal void MovedIn(VendorPurchaseOrders.ItemPostings list, int position) =>
        ItemPositions[Array.IndexOf(ItemLists, list)] = position;

    /// <summary>Open: some line of the PO still has quantity that has not been invoiced.</summary>
    public bool IsOpen
    {
        get
        {
            // Inference asks this of every candidate: a count of open lines answers it, as long as only this PO's own lines
            // book on its ledger slots (always, unless a PO number and line number are given twice).
            ownSlots ??= HasOwnSlots();
            if (ownSlots.Value)
            {
                return openLines > 0;
            }

            for (var i = 0; i < Lines.Length; i++)
            {
                if (ledger.Invoiced(Lines[i].LedgerSlot) < Lines[i].Quantity)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private bool HasOwnSlots()
    {
        foreach (var line in Lines)
        {
            if (!ledger.IsOwnSlot(line.LedgerSlot))
            {
                return false;
            }
        }

        return true;
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
        var lines = Lines;
        Span<bool> used = lines.Length <= 256 ? stackalloc bool[lines.Length] : new bool[lines.Length];
        for (var i = 0; i < items.Count; i++)
        {
            var sku = items.Skus[i];
            if (sku.Length > 0 && LineWithSku(sku, used) is var chosen and >= 0)
            {
                pairings[i] = new LinePairing(lines[chosen].Line, LinePairedBy.Sku, null, chosen);
                used[lines[chosen].NumberSlot] = true;
            }
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (pairings[i].PoLine is not null)
            {
                continue;
            }

            (int Index, double Similarity) best = (-1, 0), second = (-1, 0);
            for (var index = 0; index < lines.Length; index++)
            {
                if (used[lines[index].NumberSlot])
                {
                    continue;
                }

                var similarity = items.Descriptions[i].SimilarityTo(lines[index].Description);
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
                pairings[i] = new LinePairing(lines[best.Index].Line, LinePairedBy.Description, best.Similarity, best.Index);
                used[lines[best.Index].NumberSlot] = true;
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
                if (!used[Lines[index].NumberSlot])
                {
                    return index;
                }
            }

            return withSku[0];
        }

        // SKUs come from the session's catalog, one instance per normalised SKU: the same SKU is the same reference.
        var first = -1;
        for (var index = 0; index < Lines.Length; index++)
        {
            if (ReferenceEquals(Lines[index].Sku, sku))
            {
                if (!used[Lines[index].NumberSlot])
                {
                    return index;
                }

                first = first < 0 ? index : first;
            }
        }

        return first;
    }
}

/// <summary>What matching reads of one PO line, kept together in the PO's line table.</summary>
/// <param name="Sku">Normalised, "" when the line has none; from the session's catalog (one instance per SKU).</param>
/// <param name="NumberSlot">
/// The index of the first line with this line's number: a line number is "used" once by pairing (stored POs never
/// repeat one, so it is the line's own index).
/// </param>
/// <param name="LedgerSlot">The line's quantities in the session's <see cref="QuantityLedger"/>.</param>
internal readonly record struct IndexedLine(PurchaseOrderLine Line, string Sku, ItemDescription Description, int NumberSlot, int LedgerSlot)
{
    public decimal Quantity { get; } = Line.Quantity;

    public decimal UnitPrice { get; } = Line.UnitPrice;

    public bool ReceiptRequired { get; } = Line.ReceiptRequired;
}

/// <summary>The PO line an invoice line was paired with, if any (<c>default</c> is "not paired").</summary>
/// <param name="PoLineIndex">Position of <see cref="PoLine"/> in the PO's lines, -1 when not paired.</param>
internal readonly record struct LinePairing(PurchaseOrderLine? PoLine, LinePairedBy PairedBy, double? DescriptionSimilarity, int PoLineIndex = -1);

/// <summary>
/// An invoice's lines prepared once for pairing against any number of POs: normalised SKUs and parsed descriptions. The
/// session prepares each invoice in the same instance, from the invoice (<see cref="Prepare"/>) or from items a full
/// reconcile prepared for all invoices beforehand (<see cref="Use"/>), with a pairing buffer for its candidates.
/// </summary>
internal sealed class InvoiceItems
{
    private string[] skus = [];
    private ItemDescription[] descriptions = [];
    private LinePairing[] pairings = [];
    private int offset;

    // What Prepare fills: never the arrays given to Use, which belong to whoever prepared them.
    private string[] ownSkus = [];
    private ItemDescription[] ownDescriptions = [];

    public InvoiceItems()
    {
    }

    public InvoiceItems(IReadOnlyList<InvoiceLine> lines, ItemCatalog catalog) => Prepare(lines, catalog);

    public int Count { get; private set; }

    public ReadOnlySpan<string> Skus => skus.AsSpan(offset, Count);

    public ReadOnlySpan<ItemDescription> Descriptions => descriptions.AsSpan(offset, Count);

    /// <summary>Room for one pairing per line, reused for every PO the invoice is paired with.</summary>
    public Span<LinePairing> PairingBuffer => pairings.AsSpan(0, Count);

    public void Prepare(IReadOnlyList<InvoiceLine> lines, ItemCatalog catalog)
    {
        if (ownSkus.Length < lines.Count)
        {
            (ownSkus, ownDescriptions) = (new string[lines.Count], new ItemDescription[lines.Count]);
        }

        for (var i = 0; i < lines.Count; i++)
        {
            ownSkus[i] = catalog.Sku(lines[i].Sku);
            ownDescriptions[i] = catalog.Description(lines[i].Description);
        }

        Use(ownSkus, ownDescriptions, 0, lines.Count);
    }

    /// <summary>Takes the items at <paramref name="start"/> of arrays prepared for many invoices (not copied).</summary>
    public void Use(string[] preparedSkus, ItemDescription[] preparedDescriptions, int start, int count)
    {
        (skus, descriptions, offset, Count) = (preparedSkus, preparedDescriptions, start, count);
        if (pairings.Length < count)
        {
            pairings = new LinePairing[Math.Max(count, 2 * pairings.Length)];
        }
    }
}
