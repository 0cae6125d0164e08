using Invisible.Reconciliation.Text;
using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// One vendor's open POs indexed by the items on them, so that inferring the PO of an invoice looks only at open POs
/// with at least one of its items instead of every PO the vendor ever received. A fully invoiced PO is closed for good
/// within a session (invoiced quantities only grow).
/// </summary>
internal sealed class VendorPurchaseOrders
{
    private readonly List<IndexedPurchaseOrder> open = [];
    private readonly Dictionary<string, List<IndexedPurchaseOrder>> bySku = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<IndexedPurchaseOrder>> byDescription = new(StringComparer.Ordinal);

    public void Add(IndexedPurchaseOrder po)
    {
        open.Add(po);
        foreach (var sku in Skus(po))
        {
            bySku.GetOrAddNew(sku).Add(po);
        }

        foreach (var description in po.DescriptionKeys.Distinct(StringComparer.Ordinal))
        {
            byDescription.GetOrAddNew(description).Add(po);
        }
    }

    public void Close(IndexedPurchaseOrder po)
    {
        open.Remove(po);
        foreach (var sku in Skus(po))
        {
            bySku[sku].Remove(po);
        }

        foreach (var description in po.DescriptionKeys.Distinct(StringComparer.Ordinal))
        {
            byDescription[description].Remove(po);
        }
    }

    /// <summary>
    /// Open POs sharing an item with the invoice by SKU or identical description; every open PO of the vendor when some
    /// line is found neither way, since only a similarity comparison with each PO line can then tell.
    /// </summary>
    public IEnumerable<IndexedPurchaseOrder> SharingItemsWith(IReadOnlyList<InvoiceLine> lines, IReadOnlyList<ItemDescription> descriptions)
    {
        var found = new List<IndexedPurchaseOrder>();
        for (var i = 0; i < lines.Count; i++)
        {
            var hits = bySku.GetValueOrDefault(Normalize.Code(lines[i].Sku)) ?? byDescription.GetValueOrDefault(descriptions[i].Key);
            if (hits is null)
            {
                return open;
            }

            found.AddRange(hits);
        }

        return found.Distinct();
    }

    private static IEnumerable<string> Skus(IndexedPurchaseOrder po) =>
        po.PurchaseOrder.Lines.Select(line => Normalize.Code(line.Sku)).Where(sku => sku.Length > 0).Distinct(StringComparer.Ordinal);
}
