using System.Text;
using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests;

public sealed class UblInvoiceTests
{
    public static TheoryData<string> UblFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in SharedData.Root is null ? [] : Directory.GetFiles(SharedData.Path("data", "ubl_peppol_bis3"), "*.xml").Order().ToArray())
        {
            data.Add(Path.GetFileName(file));
        }

        if (data.Count == 0)
        {
            data.Add("(shared data absent)");
        }

        return data;
    }

    [SharedDataTheory]
    [MemberData(nameof(UblFiles))]
    public async Task Peppol_example_imports_as_invoice_lines_that_add_up_to_its_total(string name)
    {
        var result = await ReadAsync(name);

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.NotEmpty(result.Rows);
        var total = result.Rows[0].InvoiceTotal;
        Assert.All(result.Rows, r => Assert.Equal(total, r.InvoiceTotal));
        Assert.Equal(total, result.Rows.Sum(r => r.LineAmount + r.TaxAmount));
    }

    [SharedDataFact]
    public async Task Base_example_maps_supplier_lines_tax_and_the_document_charge()
    {
        var result = await ReadAsync("examples_base-example.xml");

        Assert.Equal("ubl-invoice", result.Result.Format!.Format);
        var first = result.Rows[0];
        Assert.Equal(("Snippet1", "SupplierTradingName Ltd.", "GB1232434", "EUR"), (first.InvoiceNumber, first.VendorName, first.VendorTaxId, first.Currency));
        Assert.Equal(new DateOnly(2017, 11, 13), first.InvoiceDate);
        Assert.Equal((7m, 400m, 2800m, 700m), (first.Quantity, first.UnitPrice, first.LineAmount, first.TaxAmount));
        Assert.Equal((-3m, 500m, -1500m), (result.Rows[1].Quantity, result.Rows[1].UnitPrice, result.Rows[1].LineAmount));
        var charge = result.Rows[2];
        Assert.Equal(("Document charge: Insurance", 3, 25m, 6.25m), (charge.Description, charge.LineNo, charge.LineAmount, charge.TaxAmount));
        Assert.Equal(1656.25m, first.InvoiceTotal);
    }

    [SharedDataFact]
    public async Task Credit_note_lines_are_negative()
    {
        var result = await ReadAsync("examples_base-creditnote-correction.xml");

        Assert.Equal("ubl-creditnote", result.Result.Format!.Format);
        Assert.Equal((-7m, 400m, -2800m, -700m), (result.Rows[0].Quantity, result.Rows[0].UnitPrice, result.Rows[0].LineAmount, result.Rows[0].TaxAmount));
        Assert.Equal(-1656.25m, result.Rows[0].InvoiceTotal);
    }

    [SharedDataFact]
    public async Task Base_quantity_and_line_allowances_give_the_billed_unit_price()
    {
        var result = await ReadAsync("examples_Allowance-example.xml");

        Assert.Equal(100m, result.Rows.Single(r => r.LineNo == 2).UnitPrice); // 200 per 2 units
        Assert.Equal(400m, result.Rows.Single(r => r.LineNo == 1).UnitPrice); // 410 less a line allowance of 100 on 10 units
        Assert.Equal(7125m, result.Rows[0].InvoiceTotal); // TaxInclusiveAmount, not the PayableAmount after prepayment
        Assert.Contains(result.Result.Warnings, w => w.Message.Contains("net unit price", StringComparison.Ordinal));
    }

    [SharedDataFact]
    public async Task Sales_order_example_is_an_invoice_without_a_purchase_order()
    {
        // Its OrderReference/ID is Peppol's "NA" placeholder next to a SalesOrderID: an invoice that references no PO.
        var result = await ReadAsync("examples_sales-order-example.xml");

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.All(result.Rows, r => Assert.Null(r.PoNumber));
        Assert.Contains(result.Result.Warnings, w => w.Column == "OrderReference/ID");
    }

    [Fact]
    public async Task Xml_that_is_not_an_invoice_is_rejected_with_the_reason()
    {
        var result = await Import.TextAsync<InvoiceLineRow>("<Order xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Order-2\"><ID>1</ID></Order>");

        var error = Assert.Single(result.Result.Errors);
        Assert.Contains("not a UBL 2.1 Invoice or CreditNote", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_document_type_definition_is_refused_so_entities_cannot_reach_files()
    {
        const string xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
            <Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&secret;</ID></Invoice>
            """;

        var result = await Import.BytesAsync<InvoiceLineRow>(Encoding.UTF8.GetBytes(xxe));

        Assert.False(result.Result.Accepted);
        Assert.Contains("not well-formed XML", result.Result.Errors[0].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Result.Errors, e => (e.Value ?? "").Contains("root:", StringComparison.Ordinal));
    }

    [SharedDataFact]
    public async Task An_invoice_written_on_a_single_line_gives_each_row_its_own_source_line_after_the_header()
    {
        var oneLine = System.Xml.Linq.XDocument.Load(SharedData.Path("data", "ubl_peppol_bis3", "examples_base-example.xml"))
            .ToString(System.Xml.Linq.SaveOptions.DisableFormatting);
        await using var content = new MemoryStream(Encoding.UTF8.GetBytes(oneLine));

        var result = await ImportReader.ReadAllAsync<InvoiceLineRow>(content, "one-line.xml", ImportOptions.Default, InMemoryReferenceData.Empty, CancellationToken.None);

        Assert.Equal([2, 3, 4], result.Rows.Select(r => r.SourceLine));
    }

    private static async Task<ImportParseResult<InvoiceLineRow>> ReadAsync(string name)
    {
        await using var content = File.OpenRead(SharedData.Path("data", "ubl_peppol_bis3", name));
        return await ImportReader.ReadAllAsync<InvoiceLineRow>(content, name, ImportOptions.Default, InMemoryReferenceData.Empty, CancellationToken.None);
    }
}
