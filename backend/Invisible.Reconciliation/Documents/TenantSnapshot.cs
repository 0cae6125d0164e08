namespace Invisible.Reconciliation.Documents;

/// <summary>Everything the engine needs of one tenant, as loaded by the storage layer. Order of the lists does not matter.</summary>
public sealed record TenantSnapshot(
    IReadOnlyList<Vendor> Vendors,
    IReadOnlyList<PurchaseOrder> PurchaseOrders,
    IReadOnlyList<ReceiptLine> Receipts,
    IReadOnlyList<Invoice> Invoices)
{
    /// <summary>Invoices a reviewer marked "not a duplicate": the duplicate rule is not applied to them.</summary>
    public IReadOnlySet<string> ConfirmedNotDuplicateInvoiceIds { get; init; } = new HashSet<string>();
}
