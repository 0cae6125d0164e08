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

    /// <summary>
    /// The tenant's own trained similarity model, as the storage layer loaded it; null means the built-in prior. A model
    /// passed to the engine explicitly takes precedence.
    /// </summary>
    public Similarity.SimilarityModel? SimilarityModel { get; init; }
}
