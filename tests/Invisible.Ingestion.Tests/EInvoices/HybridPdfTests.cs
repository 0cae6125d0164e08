using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests.EInvoices;

/// <summary>PDFs: Factur-X/ZUGFeRD with the invoice embedded, broken ones, and a plain PDF that must be keyed by hand.</summary>
public sealed class HybridPdfTests
{
    public static TheoryData<string> ZugferdFailFiles()
    {
        var data = new TheoryData<string>();
        if (EInvoiceCorpus.Present)
        {
            foreach (var file in Directory.GetFiles(EInvoiceCorpus.Folder("zugferd-fail")).Order())
            {
                data.Add(Path.GetFileName(file));
            }
        }

        if (data.Count == 0)
        {
            data.Add("(shared data absent)");
        }

        return data;
    }

    [EInvoiceCorpusTheory]
    [MemberData(nameof(ZugferdFailFiles))]
    public async Task Zugferd_file_that_fails_a_schematron_rule_imports_whole_or_is_rejected_with_a_reason_naming_the_file(string name)
    {
        var result = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("zugferd-fail", name));

        var problems = new List<string>();
        if (result.Result.Accepted)
        {
            if (result.Rows.Count == 0 || result.Rows[0].InvoiceTotal != result.Rows.Sum(r => r.LineAmount + r.TaxAmount) && result.Result.Warnings.Count == 0)
            {
                problems.Add($"accepted without rows or with totals that do not add up and no warning:{Environment.NewLine}{EInvoiceCorpus.Describe(result.Rows)}");
            }
        }
        else if (result.Rows.Count > 0 || result.Result.Errors.Count == 0 || result.Result.Errors.Any(e => e.FileName != name || e.Reason.Length == 0))
        {
            problems.Add($"rejected without a reason naming the file, or with partial rows: {Import.Describe(result.Result)}");
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [EInvoiceCorpusFact]
    public async Task Pdf_without_embedded_invoice_data_is_rejected_as_no_invoice_data_so_it_can_be_keyed()
    {
        var file = Directory.GetFiles(EInvoiceCorpus.Folder("unstructured"), "*.pdf").First();

        var result = await EInvoiceCorpus.ReadAsync(file);

        var error = Assert.Single(result.Result.Errors);
        Assert.Equal((ImportErrorCodes.NoInvoiceData, "the PDF carries no Factur-X/ZUGFeRD/XRechnung invoice data; key it by hand"), (error.Code, error.Reason));
    }

    [EInvoiceCorpusFact]
    public async Task Factur_x_credit_note_of_type_381_imports_with_negative_quantities_and_amounts()
    {
        var result = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("zugferd-fail", "FNFE-factur-x-examples_Avoir_FR_type381_EN16931.pdf"));

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.Equal("pdf+cii-creditnote", result.Result.Format!.Format);
        Assert.All(result.Rows, r => Assert.True(r.Quantity < 0 && r.LineAmount < 0 && r.InvoiceTotal < 0 && r.UnitPrice >= 0, EInvoiceCorpus.Describe(result.Rows)));
    }

    [EInvoiceCorpusFact]
    public async Task Minimum_profile_without_lines_becomes_the_header_and_one_summary_line_that_adds_up_to_the_total()
    {
        var result = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("zugferd-fail", "FNFE-factur-x-examples_Avoir_FR_type381_MINIMUM.pdf"));

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        var line = Assert.Single(result.Rows);
        Assert.Equal((1, "Invoice total (MINIMUM profile: the invoice carries no lines)", line.InvoiceTotal),
            (line.LineNo, line.Description, line.LineAmount + line.TaxAmount));
    }

    [EInvoiceCorpusFact]
    public async Task Ubl_credit_note_of_the_corpus_is_negative()
    {
        var result = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("xml-rechnung", "ubl", "ubl-tc434-creditnote1.xml"));

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.True(result.Rows.All(r => r.LineAmount <= 0) && result.Rows[0].InvoiceTotal < 0, EInvoiceCorpus.Describe(result.Rows));
    }
}
