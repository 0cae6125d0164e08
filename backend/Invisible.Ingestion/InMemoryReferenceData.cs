using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion;

/// <summary>
/// Reference data held in memory, built from already parsed vendor and purchase order rows: for a dry run of a set of
/// files before anything is stored, and for tests.
/// </summary>
public sealed class InMemoryReferenceData : IReferenceData
{
    private readonly HashSet<string> _vendorCodes;
    private readonly HashSet<PurchaseOrderLineKey> _poLines;

    public InMemoryReferenceData(IEnumerable<VendorRow> vendors, IEnumerable<PurchaseOrderLineRow> purchaseOrderLines)
    {
        _vendorCodes = vendors.Select(v => v.VendorCode).ToHashSet(StringComparer.Ordinal);
        _poLines = purchaseOrderLines.Select(l => new PurchaseOrderLineKey(l.PoNumber, l.LineNo)).ToHashSet();
    }

    /// <summary>No vendors and no purchase orders: every reference is unknown.</summary>
    public static InMemoryReferenceData Empty { get; } = new([], []);

    public Task<IReadOnlySet<string>> FindVendorCodesAsync(IReadOnlyCollection<string> vendorCodes, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<string>>(vendorCodes.Where(_vendorCodes.Contains).ToHashSet(StringComparer.Ordinal));

    public Task<IReadOnlySet<PurchaseOrderLineKey>> FindPurchaseOrderLinesAsync(
        IReadOnlyCollection<PurchaseOrderLineKey> lines,
        CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<PurchaseOrderLineKey>>(lines.Where(_poLines.Contains).ToHashSet());
}
