using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// One vendor's open POs indexed by the items on them, so that inferring the PO of an invoice looks only at open POs
/// with at least one of its items instead of every PO the vendor ever received. A fully invoiced PO is closed for good
/// within a session (invoiced quantities only grow). Sets, not lists: closing a PO must not cost a scan of every PO of
/// the vendor, and inference ranks candidates by score and PO number, so the order they come in does not matter.
/// </summary>
internal sealed class VendorPurchaseOrders
{
    private readonly HashSet<IndexedPurchaseOrder> open = [];
    private readonly Dictionary<string, HashSet<IndexedPurchaseOrder>> bySku = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<IndexedPurchaseOrder>> byDescription = new(StringComparer.Ordinal);
    private readonly HashSet<IndexedPurchaseOrder> found = [];

    public void Add(IndexedPurchaseOrder po)
    {
        open.Add(po);
        foreach (var sku in po.Skus)
        {
            bySku.GetOrAddNew(sku).Add(po);
        }

        foreach (var description in po.DescriptionKeys)
        {
            byDescription.GetOrAddNew(description).Add(po);
        }
    }

    public void Close(IndexedPurchaseOrder po)
    {
        open.Remove(po);
        foreach (var sku in po.Skus)
        {
            bySku[sku].Remove(po);
        }

        foreach (var description in po.DescriptionKeys)
        {
            byDescription[description].Remove(po);
        }
    }

    /// <summary>
    /// Open POs sharing an item with the invoice by SKU or identical description, ordered on or before the invoice date
    /// (a later PO cannot be what it bills); every such open PO of the vendor when some line is found neither way, since
    /// only a similarity comparison with each PO line can then tell.
    /// </summary>
    public List<IndexedPurchaseOrder> SharingItemsWith(InvoiceItems items, DateOnly invoiceDate)
    {
        found.Clear();
        for (var i = 0; i < items.Count; i++)
        {
            var hits = (items.Skus[i].Length > 0 ? bySku.GetValueOrDefault(items.Skus[i]) : null)
                ?? byDescription.GetValueOrDefault(items.Descriptions[i].Key);
            if (hits is null)
            {
                return PlacedBy(open, invoiceDate);
            }

            found.UnionWith(hits);
        }

        return PlacedBy(found, invoiceDate);
    }

    private static List<IndexedPurchaseOrder> PlacedBy(HashSet<IndexedPurchaseOrder> purchaseOrders, DateOnly invoiceDate)
    {
        var result = new List<IndexedPurchaseOrder>();
        foreach (var po in purchaseOrders)
        {
            if (po.PurchaseOrder.OrderDate <= invoiceDate)
            {
                result.Add(po);
            }
        }

        return result;
    }
}
