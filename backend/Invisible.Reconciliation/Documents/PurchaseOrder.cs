namespace Invisible.Reconciliation.Documents;

/// <summary>A purchase order as it stands now; <see cref="Version"/> grows with every change so decisions can say which one they used.</summary>
public sealed record PurchaseOrder(
    string PoNumber,
    string VendorCode,
    DateOnly OrderDate,
    string Currency,
    IReadOnlyList<PurchaseOrderLine> Lines,
    int Version = 1);

/// <param name="ReceiptRequired">true: 3-way match against receipts; false: 2-way match against the ordered quantity (services).</param>
public sealed record PurchaseOrderLine(
    int LineNo,
    string? Sku,
    string Description,
    decimal Quantity,
    decimal UnitPrice,
    bool ReceiptRequired = true);
