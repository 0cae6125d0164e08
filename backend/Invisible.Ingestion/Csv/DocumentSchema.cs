namespace Invisible.Ingestion.Csv;

public enum ColumnType
{
    Text,
    WholeNumber,
    Number,
    Date,
    YesNo,
}

/// <summary>A canonical column: its name in FORMATS.md, and the other names suppliers' files commonly use for it.</summary>
public sealed record Column(string Name, ColumnType Type, bool Required, IReadOnlyList<string> Synonyms)
{
    /// <summary>Position in <see cref="DocumentSchema.Columns"/>.</summary>
    public int Ordinal { get; internal set; }
}

/// <summary>The columns of one canonical file.</summary>
public sealed class DocumentSchema
{
    private DocumentSchema(DocumentKind kind, params Column[] columns)
    {
        Kind = kind;
        Columns = columns;
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i].Ordinal = i;
        }
    }

    public DocumentKind Kind { get; }
    public IReadOnlyList<Column> Columns { get; }

    public Column this[string name] => Columns.First(c => c.Name == name);

    public static DocumentSchema For(DocumentKind kind) => kind switch
    {
        DocumentKind.Vendors => Vendors,
        DocumentKind.PurchaseOrders => PurchaseOrders,
        DocumentKind.Receipts => Receipts,
        DocumentKind.Invoices => Invoices,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown document kind"),
    };

    private static Column Text(string name, bool required, params string[] synonyms) => new(name, ColumnType.Text, required, synonyms);

    private static Column Of(ColumnType type, string name, bool required, params string[] synonyms) => new(name, type, required, synonyms);

    private static readonly string[] CurrencyNames = ["Currency", "Ccy", "Curr", "Currency Code"];

    public static DocumentSchema Vendors { get; } = new(
        DocumentKind.Vendors,
        Text("vendor_code", true, "Vendor Code", "Vendor ID", "Vendor No", "Vendor Number", "Supplier Code", "Supplier ID", "Supplier No"),
        Text("name", true, "Vendor Name", "Supplier Name", "Legal Name", "Company", "Company Name"),
        Text("tax_id", false, "Tax ID", "VAT ID", "VAT Number", "VAT No", "EIN", "TIN", "Tax Number"),
        Text("email", false, "E-mail", "Email Address", "AP Email", "Remittance Email"),
        Text("country", false, "Country Code"),
        Text("currency", false, CurrencyNames),
        Text("payment_terms", false, "Payment Terms", "Terms"));

    public static DocumentSchema PurchaseOrders { get; } = new(
        DocumentKind.PurchaseOrders,
        Text("po_number", true, "PO", "PO No", "PO #", "PO Ref", "Purchase Order", "Purchase Order Number", "Purchase Order No", "Order Number", "Order No"),
        Text("vendor_code", true, "Vendor Code", "Vendor ID", "Vendor No", "Vendor", "Supplier Code", "Supplier ID", "Supplier"),
        Of(ColumnType.Date, "order_date", true, "Order Date", "PO Date", "Date"),
        Text("currency", true, CurrencyNames),
        Of(ColumnType.WholeNumber, "line_no", true, "Line", "Line No", "Line #", "Line Number", "PO Line"),
        Text("sku", false, "Item Code", "Item", "Item No", "Item Number", "Part Number", "Part No", "Article Number", "Product Code"),
        Text("description", true, "Desc", "Item Description", "Text"),
        Of(ColumnType.Number, "quantity", true, "Qty", "Quantity Ordered", "Qty Ordered", "Ordered Qty"),
        Of(ColumnType.Number, "unit_price", true, "Unit Price", "Price", "Unit Cost", "Price Per Unit"),
        Of(ColumnType.YesNo, "receipt_required", false, "Receipt Required", "Requires Receipt", "Three Way Match", "3 Way Match"));

    public static DocumentSchema Receipts { get; } = new(
        DocumentKind.Receipts,
        Text("receipt_number", true, "Receipt No", "Receipt #", "Receipt", "GR Number", "GR No", "GRN", "Goods Receipt", "Goods Receipt Number"),
        Text("po_number", true, "PO", "PO No", "PO #", "PO Ref", "Purchase Order", "Purchase Order Number", "Order Number"),
        Of(ColumnType.WholeNumber, "po_line_no", true, "PO Line", "PO Line No", "PO Line #", "Line", "Line No", "Line Number"),
        Of(ColumnType.Date, "received_date", true, "Received Date", "Date Received", "Receipt Date", "GR Date", "Date"),
        Of(ColumnType.Number, "quantity_received", true, "Quantity Received", "Qty Received", "Received Qty", "Received Quantity", "Qty", "Quantity"));

    public static DocumentSchema Invoices { get; } = new(
        DocumentKind.Invoices,
        Text("invoice_number", true, "Invoice No", "Invoice #", "Inv #", "Inv No", "Invoice Number", "Invoice", "Invoice ID", "Inv Number"),
        Text("vendor_name", true, "Vendor Name", "Vendor", "Supplier", "Supplier Name"),
        Text("vendor_tax_id", false, "Vendor Tax ID", "Tax ID", "VAT ID", "VAT Number", "Supplier VAT ID", "Supplier Tax ID"),
        Of(ColumnType.Date, "invoice_date", true, "Invoice Date", "Inv Date", "Date", "Document Date"),
        Text("currency", true, CurrencyNames),
        Text("po_number", false, "PO", "PO No", "PO #", "PO Ref", "PO Reference", "Purchase Order", "Order Reference", "Your Order"),
        Of(ColumnType.WholeNumber, "line_no", true, "Line", "Line No", "Line #", "Line Number"),
        Text("sku", false, "Item Code", "Item", "Item No", "Item Number", "Part Number", "Part No", "Article Number", "Product Code"),
        Text("description", true, "Desc", "Item Description", "Text"),
        Of(ColumnType.Number, "quantity", true, "Qty"),
        Of(ColumnType.Number, "unit_price", true, "Unit Price", "Price", "Unit Cost", "Price Per Unit"),
        Of(ColumnType.Number, "line_amount", true, "Line Amount", "Amount", "Line Total", "Net Amount", "Extended Price", "Ext Price"),
        Of(ColumnType.Number, "tax_amount", false, "Tax Amount", "Tax", "VAT", "VAT Amount"),
        Of(ColumnType.Number, "invoice_total", true, "Invoice Total", "Total", "Invoice Amount", "Gross Total", "Total Amount"));
}
