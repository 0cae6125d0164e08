using System.Globalization;
using CsvHelper;
using Invisible.Reconciliation.Documents;

namespace Invisible.SampleData;

/// <summary>
/// Writes a generated tenant as the four canonical CSV files of FORMATS section 1 (exact column names) plus
/// <c>truth.csv</c>, the ground truth per invoice line, ready for <c>./invisible import</c> and quality measurement.
/// </summary>
public static class CanonicalCsvWriter
{
    public const string TruthFileName = "truth.csv";

    public static async Task WriteAsync(GeneratedTenant tenant, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var snapshot = tenant.Snapshot;
        await WriteFileAsync(Path.Combine(directory, "vendors.csv"),
            ["vendor_code", "name", "tax_id", "email", "country", "currency", "payment_terms"],
            snapshot.Vendors.Select(v => new[] { v.Code, v.Name, v.TaxId, v.Email, v.Country, v.Currency, v.PaymentTerms }),
            cancellationToken);
        await WriteFileAsync(Path.Combine(directory, "purchase_orders.csv"),
            ["po_number", "vendor_code", "order_date", "currency", "line_no", "sku", "description", "quantity", "unit_price", "receipt_required"],
            snapshot.PurchaseOrders.SelectMany(po => po.Lines.Select(line => new[]
            {
                po.PoNumber, po.VendorCode, Date(po.OrderDate), po.Currency, Number(line.LineNo), line.Sku, line.Description,
                Number(line.Quantity), Number(line.UnitPrice), line.ReceiptRequired ? "true" : "false",
            })),
            cancellationToken);
        await WriteFileAsync(Path.Combine(directory, "receipts.csv"),
            ["receipt_number", "po_number", "po_line_no", "received_date", "quantity_received"],
            snapshot.Receipts.Select(r => new[] { r.ReceiptNumber, r.PoNumber, Number(r.PoLineNo), Date(r.ReceivedDate), Number(r.QuantityReceived) }),
            cancellationToken);
        await WriteFileAsync(Path.Combine(directory, "invoices.csv"),
            ["invoice_number", "vendor_name", "vendor_tax_id", "invoice_date", "currency", "po_number", "line_no", "sku", "description",
             "quantity", "unit_price", "line_amount", "tax_amount", "invoice_total"],
            snapshot.Invoices.OrderBy(invoice => invoice.Origin).SelectMany(invoice => invoice.Lines.Select(line => new[]
            {
                invoice.InvoiceNumber, invoice.PrintedVendorName, invoice.PrintedTaxId, Date(invoice.InvoiceDate), invoice.Currency,
                invoice.PrintedPoReference, Number(line.LineNo), line.Sku, line.Description, Number(line.Quantity), Number(line.UnitPrice),
                Number(line.LineAmount), Number(line.TaxAmount), Number(invoice.InvoiceTotal),
            })),
            cancellationToken);

        var invoicesById = snapshot.Invoices.ToDictionary(invoice => invoice.Id);
        await WriteFileAsync(Path.Combine(directory, TruthFileName),
            ["invoice_number", "vendor_code", "duplicate_of_source_line", "should_auto_match", "line_no", "po_number", "po_line_no", "source_line"],
            tenant.Truth.SelectMany(truth => truth.Lines.Select((line, index) => new[]
            {
                invoicesById[truth.InvoiceId].InvoiceNumber, truth.VendorCode,
                truth.DuplicateOfInvoiceId is { } original ? Number(invoicesById[original].Origin.FirstSourceLine) : "",
                truth.ShouldAutoMatch ? "true" : "false", Number(index + 1), line.PoLineNo is null ? "" : truth.PoNumber,
                line.PoLineNo is { } poLine ? Number(poLine) : "", Number(line.SourceLine),
            })),
            cancellationToken);
    }

    private static async Task WriteFileAsync(string path, string[] header, IEnumerable<string?[]> rows, CancellationToken cancellationToken)
    {
        await using var stream = new StreamWriter(path);
        using (var csv = CsvWriter.Create(stream, null, leaveOpen: true))
        {
            foreach (var column in header)
            {
                csv.WriteField(column);
            }

            csv.EndRecord();
            foreach (var row in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var field in row)
                {
                    csv.WriteField(field ?? "");
                }

                csv.EndRecord();
            }

            csv.Flush();
        }

        await stream.FlushAsync(cancellationToken);
    }

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Number(decimal value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
