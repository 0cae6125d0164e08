using System.Globalization;
using System.Text;
using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests;

public sealed class DetectionTests
{
    private const string GermanInvoice =
        "Rechnung;Lieferant;Datum;Währung;Zeile;Beschreibung;Menge;Einzelpreis;Betrag;Steuer;Gesamt\r\n" +
        "R-1;Müller GmbH;27.02.2026;EUR;1;Büroklammern;1.000;0,0350;35,00;6,65;1.041,65\r\n" +
        "R-1;Müller GmbH;27.02.2026;EUR;2;Ordner;100;10,00;1.000,00;0,00;1.041,65\r\n";

    private static readonly Dictionary<string, string> GermanMapping = new()
    {
        ["Rechnung"] = "invoice_number",
        ["Lieferant"] = "vendor_name",
        ["Datum"] = "invoice_date",
        ["Währung"] = "currency",
        ["Zeile"] = "line_no",
        ["Beschreibung"] = "description",
        ["Menge"] = "quantity",
        ["Einzelpreis"] = "unit_price",
        ["Betrag"] = "line_amount",
        ["Steuer"] = "tax_amount",
        ["Gesamt"] = "invoice_total",
    };

    [Fact]
    public async Task A_windows_1252_semicolon_file_with_decimal_commas_and_dotted_dates_is_detected()
    {
        var bytes = Encoding.GetEncoding(1252).GetBytes(GermanInvoice);

        var result = await Import.BytesAsync<InvoiceLineRow>(bytes, ImportOptions.Default with { ColumnMapping = GermanMapping });

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.Equal(("windows-1252", ';', ','), (result.Result.Format!.Encoding, result.Result.Format.Delimiter, result.Result.Format.DecimalSeparator));
        var first = result.Rows[0];
        Assert.Equal(("Müller GmbH", new DateOnly(2026, 2, 27), 1000m, 0.035m, 1041.65m),
            (first.VendorName, first.InvoiceDate, first.Quantity, first.UnitPrice, first.InvoiceTotal));
    }

    [Fact]
    public async Task Utf16_with_a_byte_order_mark_is_read()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("vendor_code,name,country\nV1,Zoë AG,CH\n")).ToArray();

        var result = await Import.BytesAsync<VendorRow>(bytes);

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.Equal("Zoë AG", Assert.Single(result.Rows).Name);
    }

    [Fact]
    public async Task Month_first_dates_are_detected_when_one_day_is_above_twelve()
    {
        var result = await Import.TextAsync<ReceiptRow>(
            "receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-1,PO-1,1,02/03/2026,1\nGR-2,PO-1,1,02/13/2026,1\n",
            references: PurchaseOrderOneLineOne());

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.Equal(new DateOnly(2026, 2, 3), result.Rows[0].ReceivedDate);
    }

    [Fact]
    public async Task Dates_that_read_both_ways_are_an_error_naming_column_and_rows()
    {
        var result = await Import.TextAsync<ReceiptRow>(
            "receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-1,PO-1,1,02/03/2026,1\nGR-2,PO-1,1,04/05/2026,1\n");

        var error = Assert.Single(result.Result.Errors);
        Assert.Equal("received_date", error.Column);
        Assert.Contains("lines 2, 3", error.Reason, StringComparison.Ordinal);
        Assert.Empty(result.Rows);
    }

    [Fact]
    public async Task An_explicit_culture_settles_ambiguous_dates_and_numbers()
    {
        var csv = "receipt_number;po_number;po_line_no;received_date;quantity_received\nGR-1;PO-1;1;02/03/2026;1.500\n";

        var ambiguous = await Import.TextAsync<ReceiptRow>(csv, references: PurchaseOrderOneLineOne());
        var british = await Import.TextAsync<ReceiptRow>(csv, ImportOptions.Default with { Culture = CultureInfo.GetCultureInfo("en-GB") }, PurchaseOrderOneLineOne());

        Assert.Equal(["quantity_received", "received_date"], ambiguous.Result.Errors.Select(e => e.Column).Order());
        Assert.True(british.Result.Accepted, Import.Describe(british.Result));
        Assert.Equal((new DateOnly(2026, 3, 2), 1.5m), (british.Rows[0].ReceivedDate, british.Rows[0].QuantityReceived));
    }

    [Fact]
    public async Task Mixed_decimal_separators_are_an_error_not_a_guess()
    {
        var result = await Import.TextAsync<ReceiptRow>(
            "receipt_number;po_number;po_line_no;received_date;quantity_received\nGR-1;PO-1;1;2026-01-02;1,5\nGR-2;PO-1;1;2026-01-02;2.25\n");

        Assert.Contains("decimal comma", Assert.Single(result.Result.Errors).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Header_synonyms_in_any_order_and_case_are_recognised_and_unknown_columns_warned()
    {
        var result = await Import.TextAsync<InvoiceLineRow>(
            "Qty,Unit Price,Amount,Total,Inv #,SUPPLIER,Invoice Date,Currency,PO Ref,Line,Description,Remarks\n" +
            "2,1.50,3.00,3.00,INV 7, ACME  Ltd ,2026-01-05,usd,PO #10045,1,Widgets,call Bob\n");

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        var row = Assert.Single(result.Rows);
        Assert.Equal(("INV 7", " ACME  Ltd ", "USD", "PO #10045"), (row.InvoiceNumber, row.VendorName, row.Currency, row.PoNumber));
        var warning = Assert.Single(result.Result.Warnings);
        Assert.Equal("Remarks", warning.Column);
    }

    [Fact]
    public async Task A_missing_required_column_is_an_error_naming_it()
    {
        var result = await Import.TextAsync<VendorRow>("vendor_code,country\nV1,DE\n");

        var error = Assert.Single(result.Result.Errors);
        Assert.Equal((1, "name"), (error.Line, error.Column));
    }

    [Fact]
    public async Task A_header_with_as_many_commas_as_semicolons_is_ambiguous()
    {
        var result = await Import.TextAsync<VendorRow>("vendor_code,name;country\nV1,X;DE\n");

        Assert.Contains("delimiter", Assert.Single(result.Result.Errors).Reason, StringComparison.Ordinal);
    }

    /// <summary>The tenant has purchase order PO-1 with a line 1.</summary>
    private static InMemoryReferenceData PurchaseOrderOneLineOne() =>
        new([], [new PurchaseOrderLineRow(2, "PO-1", "V1", new DateOnly(2026, 1, 1), "EUR", 1, null, "Widgets", 10m, 1m, true)]);
}
