using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests.EInvoices;

/// <summary>The real e-invoices of ../shared/data/einvoice (see the README of ../shared/data) and how to read them.</summary>
public static class EInvoiceCorpus
{
    public static string Folder(params string[] parts) => SharedData.Path(["data", "einvoice", .. parts]);

    public static bool Present => SharedData.Root is not null && Directory.Exists(Folder());

    public static async Task<ImportParseResult<InvoiceLineRow>> ReadAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        return await ImportReader.ReadAllAsync<InvoiceLineRow>(stream, Path.GetFileName(path), ImportOptions.Default, InMemoryReferenceData.Empty, CancellationToken.None);
    }

    /// <summary>What "the same invoice" means across syntaxes: header, every line, totals; not where in the file a line sits.</summary>
    /// <param name="unlike">A header field the source files of one invoice disagree on ("date" or "tax id"), left out.</param>
    public static string Describe(IReadOnlyList<InvoiceLineRow> rows, string? unlike = null)
    {
        if (rows.Count == 0)
        {
            return "(no rows)";
        }

        var first = rows[0];
        var taxId = unlike == "tax id" ? "…" : first.VendorTaxId;
        var date = unlike == "date" ? "…" : first.InvoiceDate.ToString("yyyy-MM-dd");
        var header = $"invoice {first.InvoiceNumber} from {first.VendorName} ({taxId}) of {date} in {first.Currency}, PO {first.PoNumber ?? "-"}, total {first.InvoiceTotal:0.00##}";
        var lines = rows.OrderBy(r => r.LineNo).Select(r =>
            $"  {r.LineNo}: {r.Sku ?? "-"} '{r.Description}' {r.Quantity:0.####} × {r.UnitPrice:0.####} = {r.LineAmount:0.00} + tax {r.TaxAmount:0.00}");
        return string.Join(Environment.NewLine, [header, .. lines]);
    }
}

/// <summary>A theory over the corpus, skipped with a message when ../shared is absent.</summary>
public sealed class EInvoiceCorpusTheoryAttribute : TheoryAttribute
{
    public EInvoiceCorpusTheoryAttribute()
    {
        if (!EInvoiceCorpus.Present)
        {
            Skip = "../shared/data/einvoice (or INVISIBLE_SHARED_DIR) is absent: no real e-invoices to read";
        }
    }
}

public sealed class EInvoiceCorpusFactAttribute : FactAttribute
{
    public EInvoiceCorpusFactAttribute()
    {
        if (!EInvoiceCorpus.Present)
        {
            Skip = "../shared/data/einvoice (or INVISIBLE_SHARED_DIR) is absent: no real e-invoices to read";
        }
    }
}
