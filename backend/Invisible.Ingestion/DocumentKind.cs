namespace Invisible.Ingestion;

/// <summary>The four canonical files of FORMATS.md section 1.</summary>
public enum DocumentKind
{
    Vendors,
    PurchaseOrders,
    Receipts,
    Invoices,
}
