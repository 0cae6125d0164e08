using System.Text;
using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Tests;

public sealed class ValidationTests
{
    private const string InvoiceHeader =
        "invoice_number,vendor_name,invoice_date,currency,line_no,description,quantity,unit_price,line_amount,tax_amount,invoice_total\n";

    [Fact]
    public async Task Line_amount_must_be_quantity_times_unit_price_rounded_half_away_from_zero()
    {
        var rounded = await Import.TextAsync<InvoiceLineRow>(InvoiceHeader + "I1,Acme,2026-01-05,EUR,1,Bolts,3,0.125,0.38,0,0.38\n");
        var wrong = await Import.TextAsync<InvoiceLineRow>(InvoiceHeader + "I1,Acme,2026-01-05,EUR,1,Bolts,3,0.125,0.37,0,0.37\n");

        Assert.True(rounded.Result.Accepted, Import.Describe(rounded.Result));
        var error = Assert.Single(wrong.Result.Errors);
        Assert.Equal((2, "line_amount", "0.37"), (error.Line, error.Column, error.Value));
        Assert.Empty(wrong.Rows);
    }

    [Fact]
    public async Task Invoice_total_must_repeat_on_every_row_but_a_total_that_does_not_add_up_is_stored_with_a_warning()
    {
        var inconsistent = await Import.TextAsync<InvoiceLineRow>(InvoiceHeader +
            "I1,Acme,2026-01-05,EUR,1,Bolts,1,10,10.00,1.00,22.00\n" +
            "I1,Acme,2026-01-05,EUR,2,Nuts,1,10,10.00,1.00,23.00\n");
        var wrongSum = await Import.TextAsync<InvoiceLineRow>(InvoiceHeader +
            "I1,Acme,2026-01-05,EUR,1,Bolts,1,10,10.00,1.00,21.00\n" +
            "I1,Acme,2026-01-05,EUR,2,Nuts,1,10,10.00,1.00,21.00\n");

        var error = Assert.Single(inconsistent.Result.Errors);
        Assert.Equal((3, "invoice_total"), (error.Line, error.Column));

        // FORMATS.md section 2: totals that do not add up make the invoice an exception for a reviewer, so it must be stored.
        Assert.True(wrongSum.Result.Accepted, Import.Describe(wrongSum.Result));
        Assert.Equal(2, wrongSum.Rows.Count);
        var warning = Assert.Single(wrongSum.Result.Warnings);
        Assert.Equal((2, "invoice_total"), (warning.Line, warning.Column));
        Assert.Contains("lines + tax = 22.00", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicate_natural_keys_name_the_first_line()
    {
        var vendors = await Import.TextAsync<VendorRow>("vendor_code,name\nV1,A\nV2,B\nV1,C\n");
        var purchaseOrders = await Import.TextAsync<PurchaseOrderLineRow>(
            "po_number,vendor_code,order_date,currency,line_no,description,quantity,unit_price\n" +
            "PO-1,V1,2026-01-01,EUR,1,Bolts,1,1\nPO-1,V1,2026-01-01,EUR,1,Nuts,1,1\n");

        Assert.Contains("already on line 2", Assert.Single(vendors.Result.Errors).Reason, StringComparison.Ordinal);
        Assert.Contains(purchaseOrders.Result.Errors, e => e.Line == 3 && e.Reason.Contains("duplicate po_number + line_no", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_invoice_sent_twice_in_one_file_is_stored_as_two_invoices_for_matching_to_flag()
    {
        var result = await Import.TextAsync<InvoiceLineRow>(InvoiceHeader +
            "I1,Acme,2026-01-05,EUR,1,Bolts,1,10,10.00,0,20.00\n" +
            "I1,Other Co,2026-01-05,EUR,1,Bolts,1,10,10.00,0,10.00\n" + // same number, another printed vendor: another invoice
            "I1,Acme,2026-01-05,EUR,2,Nuts,1,10,10.00,0,20.00\n" + //      not consecutive, still the first Acme invoice
            "I1,Acme,2026-01-05,EUR,1,Bolts,1,10,10.00,0,20.00\n" + //      line 1 again: the copy starts here …
            "I1,Acme,2026-01-05,EUR,2,Nuts,1,10,10.00,0,20.00\n"); //       … and goes on here

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.Equal([1, 2, 1, 3, 3], result.Rows.Select(r => r.InvoicePosition));
    }

    [Fact]
    public async Task A_copy_must_still_repeat_its_own_header_on_every_row()
    {
        var result = await Import.TextAsync<InvoiceLineRow>(InvoiceHeader +
            "I1,Acme,2026-01-05,EUR,1,Bolts,1,10,10.00,0,10.00\n" +
            "I1,Acme,2026-01-06,EUR,1,Bolts,1,10,10.00,0,10.00\n" + // a copy with another date: fine, it is its own header
            "I1,Acme,2026-01-07,EUR,2,Nuts,1,10,10.00,0,10.00\n"); //  but a row of that copy with a third date is not

        var error = Assert.Single(result.Result.Errors);
        Assert.Equal((4, "invoice_date"), (error.Line, error.Column));
        Assert.Contains("on line 3", error.Reason, StringComparison.Ordinal);
    }

    [SharedDataFact]
    public async Task Unknown_vendor_codes_and_purchase_order_lines_are_rejected()
    {
        var references = await Import.SampleReferencesAsync();

        var purchaseOrders = await Import.TextAsync<PurchaseOrderLineRow>(
            "po_number,vendor_code,order_date,currency,line_no,description,quantity,unit_price\nPO-1,V9999,2026-01-01,EUR,1,Bolts,1,1\n", references: references);
        var receipts = await Import.TextAsync<ReceiptRow>(
            "receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-1,PO-10018,1,2026-02-08,1\nGR-1,PO-10018,9,2026-02-08,1\n", references: references);

        Assert.Equal(("vendor_code", "V9999"), (Assert.Single(purchaseOrders.Result.Errors).Column, purchaseOrders.Result.Errors[0].Value));
        Assert.Equal(3, Assert.Single(receipts.Result.Errors).Line);
    }

    [Fact]
    public async Task Ranges_codes_and_types_are_all_reported_for_one_row()
    {
        var result = await Import.TextAsync<PurchaseOrderLineRow>(
            "po_number,vendor_code,order_date,currency,line_no,description,quantity,unit_price,receipt_required\n" +
            "PO-1,V1,2026-01-01,EURO,0,Bolts,-1,1.23456,yes\n" +
            "PO-2,V1,2026-13-01,EUR,1,,1,1,maybe\n");

        Assert.Equal(
            [(2, "currency"), (2, "line_no"), (2, "quantity"), (2, "unit_price"), (2, "vendor_code"), (3, "description"), (3, "order_date"), (3, "receipt_required")],
            result.Result.Errors.Select(e => (e.Line, e.Column!)).Order());
    }

    [Fact]
    public async Task Errors_are_capped_and_the_rest_counted()
    {
        var csv = new StringBuilder("vendor_code,name,country\n");
        for (var i = 0; i < 50; i++)
        {
            csv.Append(CultureInfoInvariant($"V{i},Name,XX\n"));
        }

        var result = await Import.TextAsync<VendorRow>(csv.ToString(), ImportOptions.Default with { MaxErrors = 10 });

        Assert.Equal(10, result.Result.Errors.Count);
        Assert.Equal(50, result.Result.TotalErrorCount);
        Assert.Equal(40, result.Result.UnlistedErrorCount);
    }

    [Fact]
    public async Task The_error_csv_neutralises_formulas_and_strips_control_characters()
    {
        var result = await Import.TextAsync<VendorRow>("vendor_code,name,country\n\"=HYPERLINK(\"\"http://x\"\")\",A,ZZ\n@SUM,B,\"\tX\"\n");
        using var output = new MemoryStream();

        await ErrorCsvWriter.WriteAsync(result.Result, output, CancellationToken.None);

        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.StartsWith("file,line,column,value,reason", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\n=", text, StringComparison.Ordinal);
        Assert.DoesNotContain(",=", text, StringComparison.Ordinal);
        Assert.DoesNotContain(",@", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\t", text, StringComparison.Ordinal);
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);
}
