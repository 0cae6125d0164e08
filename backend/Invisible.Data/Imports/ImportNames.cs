using Invisible.Ingestion;

namespace Invisible.Data.Imports;

/// <summary>The database spelling of import enums (the check constraints of imports / import_uploads).</summary>
public static class ImportNames
{
    public static string Of(DocumentKind kind) => kind switch
    {
        DocumentKind.Vendors => "vendors",
        DocumentKind.PurchaseOrders => "purchase_orders",
        DocumentKind.Receipts => "receipts",
        DocumentKind.Invoices => "invoices",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown document kind."),
    };

    public static DocumentKind KindOf(string name) => name switch
    {
        "vendors" => DocumentKind.Vendors,
        "purchase_orders" => DocumentKind.PurchaseOrders,
        "receipts" => DocumentKind.Receipts,
        "invoices" => DocumentKind.Invoices,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown import kind in the database."),
    };

    public static string Of(ImportSource source) => source.ToString().ToLowerInvariant();

    public static string Of(ImportRecordStatus status) => status.ToString().ToLowerInvariant();

    public static ImportSource SourceOf(string name) => Enum.Parse<ImportSource>(name, ignoreCase: true);

    public static ImportRecordStatus StatusOf(string name) => Enum.Parse<ImportRecordStatus>(name, ignoreCase: true);
}
