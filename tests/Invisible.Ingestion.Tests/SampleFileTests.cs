using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests;

public sealed class SampleFileTests
{
    [SharedDataFact]
    public async Task The_four_sample_files_import_with_zero_errors()
    {
        var references = await Import.SampleReferencesAsync();

        var vendors = await Import.SampleAsync<VendorRow>("vendors.csv");
        var purchaseOrders = await Import.SampleAsync<PurchaseOrderLineRow>("purchase_orders.csv", references);
        var receipts = await Import.SampleAsync<ReceiptRow>("receipts.csv", references);
        var invoices = await Import.SampleAsync<InvoiceLineRow>("invoices.csv", references);

        foreach (var result in new[] { vendors.Result, purchaseOrders.Result, receipts.Result, invoices.Result })
        {
            Assert.True(result.Accepted, Import.Describe(result));
            Assert.Equal(0, result.TotalErrorCount);
            Assert.Empty(result.Warnings);
        }

        Assert.Equal(File.ReadAllLines(SharedData.Samples("vendors.csv")).Length - 1, vendors.Rows.Count);
        Assert.Equal(File.ReadAllLines(SharedData.Samples("purchase_orders.csv")).Length - 1, purchaseOrders.Rows.Count);
        Assert.Equal(File.ReadAllLines(SharedData.Samples("receipts.csv")).Length - 1, receipts.Rows.Count);
        Assert.Equal(File.ReadAllLines(SharedData.Samples("invoices.csv")).Length - 1, invoices.Rows.Count);
    }

    [SharedDataFact]
    public async Task Invoice_rows_keep_their_source_line_and_printed_values()
    {
        var invoices = await Import.SampleAsync<InvoiceLineRow>("invoices.csv");

        var first = invoices.Rows[0];
        Assert.Equal(2, first.SourceLine);
        Assert.Equal("A1259", first.InvoiceNumber);
        Assert.Equal("Oakmont Office Prods GmbH", first.VendorName);
        Assert.Equal(new DateOnly(2026, 2, 27), first.InvoiceDate);
        Assert.Null(first.PoNumber);
        Assert.Equal(190.80m, first.LineAmount);
        Assert.Equal(7705.22m, first.InvoiceTotal);
        var printedPo = invoices.Rows.First(r => r.InvoiceNumber == "INV-01178");
        Assert.Equal("10072", printedPo.PoNumber);
        Assert.Equal(Enumerable.Range(2, invoices.Rows.Count), invoices.Rows.Select(r => r.SourceLine));
    }

    [SharedDataFact]
    public async Task Sample_results_trace_to_the_same_source_lines_the_expected_results_name()
    {
        var invoices = await Import.SampleAsync<InvoiceLineRow>("invoices.csv");
        var expected = File.ReadAllLines(SharedData.Samples("expected_results.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Select(f => (Invoice: f[0], LineNo: int.Parse(f[3]), SourceLine: int.Parse(f[7])));

        foreach (var (invoice, lineNo, sourceLine) in expected)
        {
            var row = invoices.Rows.Single(r => r.SourceLine == sourceLine);
            Assert.Equal((invoice, lineNo), (row.InvoiceNumber, row.LineNo));
        }
    }

    [SharedDataFact]
    public async Task Purchase_order_lines_read_receipt_required_and_content_hash()
    {
        var purchaseOrders = await Import.SampleAsync<PurchaseOrderLineRow>("purchase_orders.csv", await Import.SampleReferencesAsync());

        Assert.Equal(10, purchaseOrders.Rows.Count(r => !r.ReceiptRequired)); // counted with Python's csv module
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(SharedData.Samples("purchase_orders.csv")))),
            purchaseOrders.Result.ContentSha256);
    }
}
