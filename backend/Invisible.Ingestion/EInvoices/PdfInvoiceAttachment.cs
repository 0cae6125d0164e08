using System.Xml;
using System.Xml.Linq;
using Invisible.Ingestion.Validation;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;

namespace Invisible.Ingestion.EInvoices;

/// <summary>
/// Finds the invoice XML a hybrid PDF carries as an embedded file (PDF/A-3 associated file): Factur-X "factur-x.xml",
/// ZUGFeRD 2 "zugferd-invoice.xml", XRechnung "xrechnung.xml", else any other embedded .xml whose root is an invoice.
/// The first attachment (in that order) that is a UBL or CII invoice wins, so a PDF carrying both a ZUGFeRD 1 and a
/// ZUGFeRD 2 file is read from the second.
/// </summary>
internal static class PdfInvoiceAttachment
{
    private static readonly string[] KnownNames = ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"];

    public sealed record Found(string Name, XDocument Document);

    public static async Task<Found?> FindAsync(Stream content, ImportOptions options, ErrorCollector errors, CancellationToken cancellationToken)
    {
        List<(string Name, byte[] Bytes)> attachments;
        content.Position = 0;
        try
        {
            using var pdf = PdfDocument.Open(content, new ParsingOptions { UseLenientParsing = true, SkipMissingFonts = true });
            attachments = pdf.Advanced.TryGetEmbeddedFiles(out var files)
                ? files.Select(f => (NameOf(f), f.Bytes.ToArray())).ToList()
                : [];
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // PdfPig throws a variety of exceptions on broken files; to the user they all mean the same.
            errors.Add(0, null, null, $"not a readable PDF: {ErrorCollector.Sanitize(e.Message)}");
            return null;
        }

        var candidates = attachments
            .Where(a => a.Name.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
            .OrderBy(a => Array.FindIndex(KnownNames, known => known.Equals(a.Name, StringComparison.OrdinalIgnoreCase)) is var i && i >= 0 ? i : KnownNames.Length)
            .ToList();
        var rejected = new List<(string Name, ErrorCollector Errors)>();
        foreach (var (name, bytes) in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (bytes.Length > options.MaxXmlBytes)
            {
                errors.Add(0, name, null, $"the embedded XML is {bytes.Length:N0} bytes; at most {options.MaxXmlBytes:N0} are accepted");
                return null;
            }

            var attempt = new ErrorCollector(errors.FileName, options.MaxErrors);
            var document = await EInvoiceReader.LoadAsync(new MemoryStream(bytes), options, attempt, $"{name}/", cancellationToken);
            if (document is not null)
            {
                return new Found(name, document);
            }

            rejected.Add((name, attempt));
        }

        if (rejected.Count > 0)
        {
            // XML was embedded but none of it is an invoice we read: say why for each, rather than "no invoice data".
            foreach (var error in rejected.SelectMany(r => r.Errors.Errors))
            {
                errors.Add(error.Line, error.Column, error.Value, error.Reason);
            }

            return null;
        }

        errors.Add(0, null, null, NoInvoiceDataReason, ImportErrorCodes.NoInvoiceData);
        return null;
    }

    public const string NoInvoiceDataReason = "the PDF carries no Factur-X/ZUGFeRD/XRechnung invoice data; key it by hand";

    private static string NameOf(EmbeddedFile file)
    {
        var name = string.IsNullOrWhiteSpace(file.FileSpecification) ? file.Name : file.FileSpecification;
        return Path.GetFileName(name?.Trim() ?? "");
    }
}
