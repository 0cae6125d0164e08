namespace Invisible.Ingestion.Canonical;

/// <summary>A row of one of the canonical files (FORMATS.md section 1), traceable to its place in the source file.</summary>
public interface ICanonicalRow
{
    /// <summary>The physical line of the file where the row starts; the header is line 1.</summary>
    int SourceLine { get; }
}

/// <summary>Ties a row type to the kind of document it is read from, so one generic reader serves all four kinds.</summary>
public interface ICanonicalRow<TSelf> : ICanonicalRow where TSelf : ICanonicalRow<TSelf>
{
    static abstract DocumentKind Kind { get; }
}

/// <summary>A row of vendors.csv, the vendor master.</summary>
public sealed record VendorRow(
    int SourceLine,
    string VendorCode,
    string Name,
    string? TaxId,
    string? Email,
    string? Country,
    string? Currency,
    string? PaymentTerms) : ICanonicalRow<VendorRow>
{
    public static DocumentKind Kind => DocumentKind.Vendors;
}

/// <summary>A row of purchase_orders.csv: one PO line. <see cref="ReceiptRequired"/> false means a 2-way match (services).</summary>
public sealed record PurchaseOrderLineRow(
    int SourceLine,
    string PoNumber,
    string VendorCode,
    DateOnly OrderDate,
    string Currency,
    int LineNo,
    string? Sku,
    string Description,
    decimal Quantity,
    decimal UnitPrice,
    bool ReceiptRequired) : ICanonicalRow<PurchaseOrderLineRow>
{
    public static DocumentKind Kind => DocumentKind.PurchaseOrders;
}

/// <summary>A row of receipts.csv: the quantity of one PO line received under one goods receipt.</summary>
public sealed record ReceiptRow(
    int SourceLine,
    string ReceiptNumber,
    string PoNumber,
    int PoLineNo,
    DateOnly ReceivedDate,
    decimal QuantityReceived) : ICanonicalRow<ReceiptRow>
{
    public static DocumentKind Kind => DocumentKind.Receipts;
}

/// <summary>
/// A row of invoices.csv: one supplier invoice line. <see cref="VendorName"/>, <see cref="VendorTaxId"/> and
/// <see cref="PoNumber"/> are kept exactly as printed (resolving them is the matching engine's job). All amounts are
/// in <see cref="Currency"/>; credit notes have negative quantities and amounts. <see cref="InvoicePosition"/> says which
/// invoice of the file the row belongs to (1 = the first invoice that appears): see <see cref="InvoiceGrouping"/>.
/// </summary>
public sealed record InvoiceLineRow(
    int SourceLine,
    int InvoicePosition,
    string InvoiceNumber,
    string VendorName,
    string? VendorTaxId,
    DateOnly InvoiceDate,
    string Currency,
    string? PoNumber,
    int LineNo,
    string? Sku,
    string Description,
    decimal Quantity,
    decimal UnitPrice,
    decimal LineAmount,
    decimal TaxAmount,
    decimal InvoiceTotal) : ICanonicalRow<InvoiceLineRow>
{
    public static DocumentKind Kind => DocumentKind.Invoices;
}
