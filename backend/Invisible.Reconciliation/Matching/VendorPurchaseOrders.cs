namespace Invisible.Reconciliation.Matching;

/// <summary>
/// One vendor's open POs indexed by the items on them, so that inferring the PO of an invoice looks only at open POs
/// with at least one of its items instead of every PO the vendor ever received. A fully invoiced PO is closed for good
/// within a session (invoiced quantities only grow). Inference ranks candidates by score and PO number, so the order
/// they are listed in does not matter: the open POs are a list closed by swapping the last one into the gap, and the
/// lists by item mark a closed PO in its entry (found through the positions the PO keeps) and drop closed entries when
/// half of a list is closed, so closing never scans a list and a look-up skips closed POs without reading them.
/// POs are added in order date order, which keeps each list by item in that order: a look-up stops at the first PO
/// placed after the invoice date.
/// </summary>
internal sealed class VendorPurchaseOrders
{
    private readonly List<IndexedPurchaseOrder> open = [];
    private readonly Dictionary<string, ItemPostings> bySku = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ItemPostings> byDescription = new(StringComparer.Ordinal);

    /// <summary>Numbers the look-ups, so that a PO found by several of an invoice's items is listed once.</summary>
    private int lookups;

    /// <summary>The item lists of the invoice being looked up, one per line (reused: a session matches one invoice at a time).</summary>
    private ItemPostings[] postingsOfLines = [];

    /// <summary>Adds an open PO; POs must be added in order date order.</summary>
    public void Add(IndexedPurchaseOrder po)
    {
        po.OpenPosition = open.Count;
        open.Add(po);
        var lists = new ItemPostings[po.Skus.Length + po.DescriptionKeys.Length];
        for (var i = 0; i < po.Skus.Length; i++)
        {
            lists[i] = bySku.GetOrAddNew(po.Skus[i]);
        }

        for (var i = 0; i < po.DescriptionKeys.Length; i++)
        {
            lists[po.Skus.Length + i] = byDescription.GetOrAddNew(po.DescriptionKeys[i]);
        }

        var positions = new int[lists.Length];
        for (var i = 0; i < lists.Length; i++)
        {
            positions[i] = lists[i].Add(po);
        }

        (po.ItemLists, po.ItemPositions) = (lists, positions);
    }

    /// <summary>Closes a PO for inference; closing one that is already closed changes nothing.</summary>
    public void Close(IndexedPurchaseOrder po)
    {
        if (po.OpenPosition < 0)
        {
            return;
        }

        var last = open[^1];
        open[po.OpenPosition] = last;
        last.OpenPosition = po.OpenPosition;
        open.RemoveAt(open.Count - 1);
        po.OpenPosition = -1;
        for (var i = 0; i < po.ItemLists.Length; i++)
        {
            po.ItemLists[i].Close(po.ItemPositions[i]);
        }
    }

    /// <summary>
    /// Open POs sharing an item with the invoice by SKU or identical description, ordered on or before the invoice date
    /// (a later PO cannot be what it bills), into <paramref name="found"/>; every such open PO of the vendor when some line
    /// is found neither way (its SKU and description were never on a PO of the vendor), since only a similarity
    /// comparison with each PO line can then tell.
    /// </summary>
    public void SharingItemsWith(InvoiceItems items, DateOnly invoiceDate, List<IndexedPurchaseOrder> found)
    {
        found.Clear();
        if (postingsOfLines.Length < items.Count)
        {
            postingsOfLines = new ItemPostings[items.Count];
        }

        for (var i = 0; i < items.Count; i++)
        {
            var hits = (items.Skus[i].Length > 0 ? bySku.GetValueOrDefault(items.Skus[i]) : null)
                ?? byDescription.GetValueOrDefault(items.Descriptions[i].Key);
            if (hits is null)
            {
                PlacedBy(open, invoiceDate, found);
                return;
            }

            postingsOfLines[i] = hits;
        }

        var lookup = ++lookups;
        foreach (var hits in postingsOfLines.AsSpan(0, items.Count))
        {
            foreach (ref readonly var entry in hits.Entries)
            {
                if (entry.OrderDate > invoiceDate)
                {
                    break;
                }

                if (entry.IsOpen && entry.Po.LastFoundBy != lookup)
                {
                    entry.Po.LastFoundBy = lookup;
                    found.Add(entry.Po);
                }
            }
        }
    }

    private static void PlacedBy(List<IndexedPurchaseOrder> purchaseOrders, DateOnly invoiceDate, List<IndexedPurchaseOrder> result)
    {
        foreach (var po in purchaseOrders)
        {
            if (po.OrderDate <= invoiceDate)
            {
                result.Add(po);
            }
        }
    }

    /// <summary>
    /// The POs with one item in order date order, each entry with the PO's order date and whether it is still open, so
    /// that a look-up reads a PO only when it is open and placed in time; closed entries are dropped once they are half
    /// the list, and the POs that stay are told their new positions.
    /// </summary>
    internal sealed class ItemPostings
    {
        private Entry[] entries = new Entry[4];
        private int count;
        private int closed;

        public ReadOnlySpan<Entry> Entries => entries.AsSpan(0, count);

        /// <summary>Adds an open PO (the latest placed so far) and returns its position.</summary>
        public int Add(IndexedPurchaseOrder po)
        {
            if (count == entries.Length)
            {
                Array.Resize(ref entries, entries.Length * 2);
            }

            entries[count] = new Entry(po.OrderDate, po, IsOpen: true);
            return count++;
        }

        public void Close(int position)
        {
            entries[position] = entries[position] with { IsOpen = false };
            if (++closed * 2 <= count)
            {
                return;
            }

            var kept = 0;
            for (var i = 0; i < count; i++)
            {
                if (entries[i].IsOpen)
                {
                    entries[kept] = entries[i];
                    entries[kept].Po.MovedIn(this, kept);
                    kept++;
                }
            }

            Array.Clear(entries, kept, count - kept);
            (count, closed) = (kept, 0);
        }

        internal readonly record struct Entry(DateOnly OrderDate, IndexedPurchaseOrder Po, bool IsOpen);
    }
}
