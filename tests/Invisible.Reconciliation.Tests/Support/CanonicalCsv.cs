using System.Globalization;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;

namespace Invisible.Reconciliation.Tests.Support;

/// <summary>
/// Reads the four canonical CSV files (FORMATS section 1, strict form only: the product's importer is Invisible.Ingestion) into a snapshot, the way the storage layer
/// would hand them to the engine: each file one import, in the order given.
/// </summary>
public static class CanonicalCsv
{
    public static TenantSnapshot ReadSnapshot(string directory)
    {
        var vendors = Rows(Path.Combine(directory, "vendors.csv"))
            .Select(row => new Vendor(row.Get("vendor_code"), row.Get("name"), row.Optional("tax_id"), row.Optional("email"),
                row.Optional("country"), row.Optional("currency"), row.Optional("payment_terms")))
            .ToList();
        var purchaseOrders = Rows(Path.Combine(directory, "purchase_orders.csv"))
            .GroupBy(row => row.Get("po_number"))
            .Select(group => new PurchaseOrder(
                group.Key,
                group.First().Get("vendor_code"),
                DateOnly.Parse(group.First().Get("order_date"), CultureInfo.InvariantCulture),
                group.First().Get("currency"),
                group.Select(row => new PurchaseOrderLine(
                    row.Int("line_no"), row.Optional("sku"), row.Get("description"), row.Decimal("quantity"), row.Decimal("unit_price"),
                    row.Optional("receipt_required") is not { } required || bool.Parse(required))).ToList()))
            .ToList();
        var receipts = Rows(Path.Combine(directory, "receipts.csv"))
            .Select(row => new ReceiptLine(row.Get("receipt_number"), row.Get("po_number"), row.Int("po_line_no"),
                DateOnly.Parse(row.Get("received_date"), CultureInfo.InvariantCulture), row.Decimal("quantity_received")))
            .ToList();
        return new TenantSnapshot(vendors, purchaseOrders, receipts, ReadInvoices(Path.Combine(directory, "invoices.csv"), importSequence: 1));
    }

    /// <summary>Rows of one invoice are consecutive rows with the same number, vendor and date (a re-sent copy starts a new invoice).</summary>
    public static List<Invoice> ReadInvoices(string path, long importSequence)
    {
        var invoices = new List<Invoice>();
        List<CsvRow> current = [];
        foreach (var row in Rows(path))
        {
            if (current.Count > 0 && !SameInvoice(current[0], row))
            {
                invoices.Add(ToInvoice(current, importSequence));
                current = [];
            }

            current.Add(row);
        }

        if (current.Count > 0)
        {
            invoices.Add(ToInvoice(current, importSequence));
        }

        return invoices;
    }

    public static List<ResultsRow> ReadResults(string path) =>
        Rows(path)
            .Select(row => new ResultsRow(row.Get("invoice_number"), row.Optional("vendor_code") ?? "", row.Get("invoice_status"), row.Int("line_no"),
                row.Get("line_status"), row.Optional("po_number") ?? "", row.Optional("po_line_no") is { } line ? int.Parse(line, CultureInfo.InvariantCulture) : null,
                row.Int("source_line")))
            .ToList();

    private static bool SameInvoice(CsvRow first, CsvRow row) =>
        first.Get("invoice_number") == row.Get("invoice_number") && first.Get("vendor_name") == row.Get("vendor_name") &&
        first.Get("invoice_date") == row.Get("invoice_date") && row.Int("line_no") > 1;

    private static Invoice ToInvoice(List<CsvRow> rows, long importSequence)
    {
        var head = rows[0];
        return new Invoice(
            $"{importSequence}:{head.SourceLine}",
            head.Get("invoice_number"),
            head.Get("vendor_name"),
            head.Optional("vendor_tax_id"),
            DateOnly.Parse(head.Get("invoice_date"), CultureInfo.InvariantCulture),
            head.Get("currency"),
            head.Optional("po_number"),
            head.Decimal("invoice_total"),
            new ImportOrigin(importSequence, head.SourceLine),
            rows.Select(row => new InvoiceLine(row.Int("line_no"), row.Optional("sku"), row.Get("description"), row.Decimal("quantity"),
                row.Decimal("unit_price"), row.Decimal("line_amount"), row.Optional("tax_amount") is { } tax ? decimal.Parse(tax, CultureInfo.InvariantCulture) : 0m,
                row.SourceLine)).ToList());
    }

    private static IEnumerable<CsvRow> Rows(string path)
    {
        var records = Rfc4180.Read(File.ReadAllText(path));
        var header = records[0].Fields.Select(name => name.Trim().ToLowerInvariant()).ToArray();
        return records.Skip(1).Select(record => new CsvRow(header.Zip(record.Fields).ToDictionary(pair => pair.First, pair => pair.Second), record.Line));
    }

    private sealed record CsvRow(Dictionary<string, string> Fields, int SourceLine)
    {
        public string Get(string column) => Fields.TryGetValue(column, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"line {SourceLine}: column '{column}' is required");

        public string? Optional(string column) => Fields.TryGetValue(column, out var value) && value.Length > 0 ? value : null;

        public int Int(string column) => int.Parse(Get(column), CultureInfo.InvariantCulture);

        public decimal Decimal(string column) => decimal.Parse(Get(column), NumberStyles.Number, CultureInfo.InvariantCulture);
    }
}
