namespace Invisible.Ingestion.Tests.EInvoices;

/// <summary>The same invoice sent as CII, UBL or a Factur-X/ZUGFeRD PDF imports to the same canonical rows.</summary>
public sealed class SameInvoiceAcrossSyntaxesTests
{
    /// <summary>
    /// Where the corpus's own files of one invoice disagree, so no reader could make them alike: the field is left out
    /// of the comparison, and the test checks that the files still disagree on it (so this list cannot go stale).
    /// </summary>
    private static readonly Dictionary<string, string> SourceFilesDisagreeOn = new()
    {
        // The PDFs embed the CII as first published (issue dates 2018); the stand-alone XML files were re-dated 2024-11-15.
        ["XRECHNUNG_Einfach"] = "date",
        ["XRECHNUNG_Betriebskostenabrechnung"] = "date",
        ["XRECHNUNG_Reisekostenabrechnung"] = "date",
        // The UBL file states the seller's VAT id as "DE 123456789", the CII file as "DE152338654".
        ["01.21a-INVOICE"] = "tax id",
    };

    public static TheoryData<string> XmlRechnungNames()
    {
        var data = new TheoryData<string>();
        if (EInvoiceCorpus.Present)
        {
            foreach (var pdf in Directory.GetFiles(EInvoiceCorpus.Folder("xml-rechnung", "fx"), "*.pdf").Order())
            {
                data.Add(Path.GetFileNameWithoutExtension(pdf));
            }
        }

        if (data.Count == 0)
        {
            data.Add("(shared data absent)");
        }

        return data;
    }

    public static TheoryData<string> XRechnungTestsuiteCases()
    {
        var data = new TheoryData<string>();
        if (EInvoiceCorpus.Present)
        {
            foreach (var ubl in Directory.GetFiles(EInvoiceCorpus.Folder("xrechnung-testsuite"), "*_ubl.xml").Order())
            {
                data.Add(Path.GetFileName(ubl)[..^"_ubl.xml".Length]);
            }
        }

        if (data.Count == 0)
        {
            data.Add("(shared data absent)");
        }

        return data;
    }

    [EInvoiceCorpusTheory]
    [MemberData(nameof(XmlRechnungNames))]
    public async Task Xml_rechnung_invoice_is_the_same_from_cii_ubl_and_the_factur_x_pdf(string name)
    {
        var cii = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("xml-rechnung", "cii", $"{name}.cii.xml"));
        var ubl = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("xml-rechnung", "ubl", $"{name}.ubl.xml"));
        var pdf = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("xml-rechnung", "fx", $"{name}.pdf"));

        var problems = new List<string>();
        foreach (var (syntax, result) in new[] { ("CII", cii), ("UBL", ubl), ("PDF", pdf) })
        {
            if (!result.Result.Accepted)
            {
                problems.Add($"{syntax} rejected: {Import.Describe(result.Result)}");
            }
        }

        var unlike = SourceFilesDisagreeOn.GetValueOrDefault(name);
        var expected = EInvoiceCorpus.Describe(cii.Rows, unlike);
        if (EInvoiceCorpus.Describe(ubl.Rows, unlike) is var fromUbl && fromUbl != expected)
        {
            problems.Add($"UBL differs from CII:{Environment.NewLine}{fromUbl}{Environment.NewLine}CII:{Environment.NewLine}{expected}");
        }

        if (EInvoiceCorpus.Describe(pdf.Rows, unlike) is var fromPdf && fromPdf != expected)
        {
            problems.Add($"PDF differs from CII:{Environment.NewLine}{fromPdf}{Environment.NewLine}CII:{Environment.NewLine}{expected}");
        }

        if (unlike is not null && EInvoiceCorpus.Describe(pdf.Rows) == EInvoiceCorpus.Describe(cii.Rows) && EInvoiceCorpus.Describe(ubl.Rows) == EInvoiceCorpus.Describe(cii.Rows))
        {
            problems.Add($"the files no longer disagree on the {unlike}: remove {name} from {nameof(SourceFilesDisagreeOn)}");
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [EInvoiceCorpusTheory]
    [MemberData(nameof(XRechnungTestsuiteCases))]
    public async Task XRechnung_business_case_is_the_same_from_ubl_and_cii(string name)
    {
        var ubl = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("xrechnung-testsuite", $"{name}_ubl.xml"));
        var cii = await EInvoiceCorpus.ReadAsync(EInvoiceCorpus.Folder("xrechnung-testsuite", $"{name}_uncefact.xml"));

        var problems = new List<string>();
        if (!ubl.Result.Accepted)
        {
            problems.Add($"UBL rejected: {Import.Describe(ubl.Result)}");
        }

        if (!cii.Result.Accepted)
        {
            problems.Add($"CII rejected: {Import.Describe(cii.Result)}");
        }

        var unlike = SourceFilesDisagreeOn.GetValueOrDefault(name);
        if (EInvoiceCorpus.Describe(ubl.Rows, unlike) is var fromUbl && EInvoiceCorpus.Describe(cii.Rows, unlike) is var fromCii && fromUbl != fromCii)
        {
            problems.Add($"UBL:{Environment.NewLine}{fromUbl}{Environment.NewLine}CII:{Environment.NewLine}{fromCii}");
        }

        if (unlike is not null && EInvoiceCorpus.Describe(ubl.Rows) == EInvoiceCorpus.Describe(cii.Rows))
        {
            problems.Add($"the files no longer disagree on the {unlike}: remove {name} from {nameof(SourceFilesDisagreeOn)}");
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
