namespace Invisible.Ingestion;

/// <summary>A purchase order line as receipts refer to it.</summary>
public readonly record struct PurchaseOrderLineKey(string PoNumber, int LineNo);

/// <summary>
/// The tenant's existing master data that a file refers to. The storage layer implements it with one set-based query
/// per call; the reader calls it once per batch with the distinct keys of that batch.
/// </summary>
public interface IReferenceData
{
    /// <summary>Returns the subset of <paramref name="vendorCodes"/> that exist in the vendor master.</summary>
    Task<IReadOnlySet<string>> FindVendorCodesAsync(IReadOnlyCollection<string> vendorCodes, CancellationToken cancellationToken);

    /// <summary>Returns the subset of <paramref name="lines"/> that exist as purchase order lines.</summary>
    Task<IReadOnlySet<PurchaseOrderLineKey>> FindPurchaseOrderLinesAsync(
        IReadOnlyCollection<PurchaseOrderLineKey> lines,
        CancellationToken cancellationToken);
}
