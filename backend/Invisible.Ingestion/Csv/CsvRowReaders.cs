using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Csv;

/// <summary>
/// Builds the canonical row of each kind from the fields of a CSV record; null when a field failed. Call <see cref="For"/>
/// once per file: the invoice reader keeps the file's <see cref="InvoiceGrouping"/>.
/// </summary>
internal static class CsvRowReaders
{
    public static Func<RowFields, TRow?> For<TRow>() where TRow : class, ICanonicalRow<TRow> => TRow.Kind switch
    {
        DocumentKind.Vendors => (Func<RowFields, TRow?>)(object)ReadVendor,
        DocumentKind.PurchaseOrders => (Func<RowFields, TRow?>)(object)ReadPurchaseOrderLine,
        DocumentKind.Receipts => (Func<RowFields, TRow?>)(object)ReadReceipt,
        DocumentKind.Invoices => (Func<RowFields, TRow?>)(object)InvoiceLineReader(new InvoiceGrouping()),
        _ => throw new ArgumentOutOfRangeException(nameof(TRow), TRow.Kind, "unknown document kind"),
    };

    private static readonly Func<RowFields, VendorRow?> ReadVendor = fields =>
    {
        var row = new VendorRow(
            fields.Line,
            fields.RequiredText(VendorColumns.VendorCode),
            fields.RequiredText(VendorColumns.Name),
            fields.Text(VendorColumns.TaxId),
            fields.Text(VendorColumns.Email),
            fields.Code(VendorColumns.Country),
            fields.Code(VendorColumns.Currency),
            fields.Text(VendorColumns.PaymentTerms));
        return fields.Failed ? null : row;
    };

    private static readonly Func<RowFields, PurchaseOrderLineRow?> ReadPurchaseOrderLine = fields =>
    {
        var poNumber = fields.RequiredText(PurchaseOrderColumns.PoNumber);
        var vendorCode = fields.RequiredText(PurchaseOrderColumns.VendorCode);
        var orderDate = fields.Date(PurchaseOrderColumns.OrderDate);
        var currency = fields.RequiredCode(PurchaseOrderColumns.Currency);
        var lineNo = fields.WholeNumber(PurchaseOrderColumns.LineNo);
        var sku = fields.Text(PurchaseOrderColumns.Sku);
        var description = fields.RequiredText(PurchaseOrderColumns.Description);
        var quantity = fields.Number(PurchaseOrderColumns.Quantity);
        var unitPrice = fields.Number(PurchaseOrderColumns.UnitPrice);
        var receiptRequired = fields.YesNo(PurchaseOrderColumns.ReceiptRequired) ?? true;
        return fields.Failed
            ? null
            : new PurchaseOrderLineRow(fields.Line, poNumber, vendorCode, orderDate!.Value, currency, lineNo!.Value, sku, description,
                quantity!.Value, unitPrice!.Value, receiptRequired);
    };

    private static readonly Func<RowFields, ReceiptRow?> ReadReceipt = fields =>
    {
        var receiptNumber = fields.RequiredText(ReceiptColumns.ReceiptNumber);
        var poNumber = fields.RequiredText(ReceiptColumns.PoNumber);
        var poLineNo = fields.WholeNumber(ReceiptColumns.PoLineNo);
        var receivedDate = fields.Date(ReceiptColumns.ReceivedDate);
        var quantity = fields.Number(ReceiptColumns.QuantityReceived);
        return fields.Failed
            ? null
            : new ReceiptRow(fields.Line, receiptNumber, poNumber, poLineNo!.Value, receivedDate!.Value, quantity!.Value);
    };

    private static Func<RowFields, InvoiceLineRow?> InvoiceLineReader(InvoiceGrouping grouping) => fields =>
    {
        var invoiceNumber = fields.RequiredText(InvoiceColumns.InvoiceNumber);
        var vendorName = fields.RequiredPrinted(InvoiceColumns.VendorName);
        var vendorTaxId = fields.Printed(InvoiceColumns.VendorTaxId);
        var invoiceDate = fields.Date(InvoiceColumns.InvoiceDate);
        var currency = fields.RequiredCode(InvoiceColumns.Currency);
        var poNumber = fields.Printed(InvoiceColumns.PoNumber);
        var lineNo = fields.WholeNumber(InvoiceColumns.LineNo);
        var sku = fields.Text(InvoiceColumns.Sku);
        var description = fields.RequiredText(InvoiceColumns.Description);
        var quantity = fields.Number(InvoiceColumns.Quantity);
        var unitPrice = fields.Number(InvoiceColumns.UnitPrice);
        var lineAmount = fields.Number(InvoiceColumns.LineAmount);
        var taxAmount = fields.Number(InvoiceColumns.TaxAmount) ?? 0m;
        var invoiceTotal = fields.Number(InvoiceColumns.InvoiceTotal);
        return fields.Failed
            ? null
            : new InvoiceLineRow(fields.Line, grouping.PositionOf(vendorName, invoiceNumber, lineNo!.Value), invoiceNumber, vendorName, vendorTaxId,
                invoiceDate!.Value, currency, poNumber,
                lineNo!.Value, sku, description, quantity!.Value, unitPrice!.Value, lineAmount!.Value, taxAmount, invoiceTotal!.Value);
    };

    private static class VendorColumns
    {
        public static readonly Column VendorCode = DocumentSchema.Vendors["vendor_code"];
        public static readonly Column Name = DocumentSchema.Vendors["name"];
        public static readonly Column TaxId = DocumentSchema.Vendors["tax_id"];
        public static readonly Column Email = DocumentSchema.Vendors["email"];
        public static readonly Column Country = DocumentSchema.Vendors["country"];
        public static readonly Column Currency = DocumentSchema.Vendors["currency"];
        public static readonly Column PaymentTerms = DocumentSchema.Vendors["payment_terms"];
    }

    private static class PurchaseOrderColumns
    {
        public static readonly Column PoNumber = DocumentSchema.PurchaseOrders["po_number"];
        public static readonly Column VendorCode = DocumentSchema.PurchaseOrders["vendor_code"];
        public static readonly Column OrderDate = DocumentSchema.PurchaseOrders["order_date"];
        public static readonly Column Currency = DocumentSchema.PurchaseOrders["currency"];
        public static readonly Column LineNo = DocumentSchema.PurchaseOrders["line_no"];
        public static readonly Column Sku = DocumentSchema.PurchaseOrders["sku"];
        public static readonly Column Description = DocumentSchema.PurchaseOrders["description"];
        public static readonly Column Quantity = DocumentSchema.PurchaseOrders["quantity"];
        public static readonly Column UnitPrice = DocumentSchema.PurchaseOrders["unit_price"];
        public static readonly Column ReceiptRequired = DocumentSchema.PurchaseOrders["receipt_required"];
    }

    private static class ReceiptColumns
    {
        public static readonly Column ReceiptNumber = DocumentSchema.Receipts["receipt_number"];
        public static readonly Column PoNumber = DocumentSchema.Receipts["po_number"];
        public static readonly Column PoLineNo = DocumentSchema.Receipts["po_line_no"];
        public static readonly Column ReceivedDate = DocumentSchema.Receipts["received_date"];
        public static readonly Column QuantityReceived = DocumentSchema.Receipts["quantity_received"];
    }

    private static class InvoiceColumns
    {
        public static readonly Column InvoiceNumber = DocumentSchema.Invoices["invoice_number"];
        public static readonly Column VendorName = DocumentSchema.Invoices["vendor_name"];
        public static readonly Column VendorTaxId = DocumentSchema.Invoices["vendor_tax_id"];
        public static readonly Column InvoiceDate = DocumentSchema.Invoices["invoice_date"];
        public static readonly Column Currency = DocumentSchema.Invoices["currency"];
        public static readonly Column PoNumber = DocumentSchema.Invoices["po_number"];
        public static readonly Column LineNo = DocumentSchema.Invoices["line_no"];
        public static readonly Column Sku = DocumentSchema.Invoices["sku"];
        public static readonly Column Description = DocumentSchema.Invoices["description"];
        public static readonly Column Quantity = DocumentSchema.Invoices["quantity"];
        public static readonly Column UnitPrice = DocumentSchema.Invoices["unit_price"];
        public static readonly Column LineAmount = DocumentSchema.Invoices["line_amount"];
        public static readonly Column TaxAmount = DocumentSchema.Invoices["tax_amount"];
        public static readonly Column InvoiceTotal = DocumentSchema.Invoices["invoice_total"];
    }
}
