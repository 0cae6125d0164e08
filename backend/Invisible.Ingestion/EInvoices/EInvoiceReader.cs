using System.Xml;
using System.Xml.Linq;
using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Csv;
using Invisible.Ingestion.Ubl;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.EInvoices;

/// <summary>
/// Reads one e-invoice into canonical invoice rows: UBL 2.1 Invoice/CreditNote, UN/CEFACT CII, or a PDF that carries
/// one of them as an embedded file (Factur-X, ZUGFeRD 2, XRechnung). The document is accepted whole or rejected with
/// reasons that name the element; a PDF without invoice data is rejected with <see cref="ImportErrorCodes.NoInvoiceData"/>.
/// XML is read securely: no DTDs, no external resolution, a size cap.
/// </summary>
internal static class EInvoiceReader
{
    private static readonly byte[] PdfSignature = "%PDF-"u8.ToArray();

    /// <summary>Readers look this far for "%PDF-": the PDF specification lets a file start with a little junk.</summary>
    private const int PdfSignatureWindow = 1024;

    /// <summary>Whether "%PDF-" appears within the first kilobyte.</summary>
    public static bool LooksLikePdf(Stream content)
    {
        content.Position = 0;
        var start = new byte[PdfSignatureWindow];
        var length = content.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        content.Position = 0;
        return start.AsSpan(0, length).IndexOf(PdfSignature) >= 0;
    }

    public static async Task<ImportParseResult> ReadAsync(
        Stream content,
        ContentScan scan,
        string fileName,
        ImportOptions options,
        RowBatchSink<InvoiceLineRow> sink,
        ErrorCollector errors,
        CancellationToken cancellationToken)
    {
        List<InvoiceLineRow> rows = [];
        string? format = null;
        if (LooksLikePdf(content))
        {
            if (scan.Length > options.MaxPdfBytes)
            {
                errors.Add(0, null, null, $"the PDF is {scan.Length:N0} bytes; at most {options.MaxPdfBytes:N0} are accepted");
            }
            else if (await PdfInvoiceAttachment.FindAsync(content, options, errors, cancellationToken) is { } attachment)
            {
                (rows, format) = Map(attachment.Document, errors, $"{attachment.Name}/");
                format = $"pdf+{format}";
            }
        }
        else if (scan.Length > options.MaxXmlBytes)
        {
            errors.Add(0, null, null, $"the XML document is {scan.Length:N0} bytes; at most {options.MaxXmlBytes:N0} are accepted");
        }
        else if (await LoadAsync(content, options, errors, "", cancellationToken) is { } document)
        {
            (rows, format) = Map(document, errors, "");
        }

        if (errors.HasErrors)
        {
            rows = [];
        }
        else
        {
            var rules = new InvoiceRules(errors);
            rows.ForEach(rules.Check);
            rules.Complete();
        }

        if (!errors.HasErrors)
        {
            await sink(rows, cancellationToken);
        }

        var detected = format is null ? null : new DetectedFormat(format, scan.Encoding.WebName, null, null, [DateFormatDetector.Iso]);
        return new ImportParseResult(fileName, !errors.HasErrors, errors.HasErrors ? 0 : rows.Count, scan.Sha256, detected,
            errors.Warnings, [.. errors.Errors.OrderBy(e => e.Line)], errors.TotalCount);
    }

    /// <summary>Whether the root is one this reader maps (the PDF reader uses it to pick among attachments).</summary>
    public static bool IsInvoiceRoot(XName root) => UblInvoiceReader.Reads(root) || CiiInvoiceReader.Reads(root);

    private static (List<InvoiceLineRow> Rows, string? Format) Map(XDocument document, ErrorCollector errors, string at)
    {
        var root = document.Root!;
        try
        {
            return CiiInvoiceReader.Reads(root.Name)
                ? (CiiInvoiceReader.Map(root, errors, at), CiiInvoiceReader.FormatOf(root))
                : (UblInvoiceReader.Map(root, errors, at), UblInvoiceReader.FormatOf(root));
        }
        catch (OverflowException)
        {
            // Each amount is bounded on reading; a quotient such as price / base quantity can still exceed decimal.
            errors.Add(0, at.Length == 0 ? null : at.TrimEnd('/'), null, "the prices and quantities are too large to compute with");
            return ([], null);
        }
    }

    /// <summary>Parses XML with DTDs prohibited and no resolver; null (with an error) unless the root is an invoice root.</summary>
    public static async Task<XDocument?> LoadAsync(Stream content, ImportOptions options, ErrorCollector errors, string at, CancellationToken cancellationToken)
    {
        content.Position = 0;
        try
        {
            using var reader = XmlReader.Create(content, SecureSettings(options));
            var document = await XDocument.LoadAsync(reader, LoadOptions.SetLineInfo, cancellationToken);
            if (document.Root is { } root && IsInvoiceRoot(root.Name))
            {
                return document;
            }

            errors.Add(1, at.Length == 0 ? null : at.TrimEnd('/'), document.Root?.Name.ToString(), NotAnInvoiceReason(document.Root?.Name));
        }
        catch (XmlException e)
        {
            errors.Add(Math.Max(e.LineNumber, 1), at.Length == 0 ? null : at.TrimEnd('/'), null, $"not well-formed XML: {e.Message}");
        }

        return null;
    }

    public static string NotAnInvoiceReason(XName? root) =>
        root == CiiInvoiceReader.ZugferdOneRoot
            ? "ZUGFeRD 1.0 (CrossIndustryDocument) is not supported; send the invoice as ZUGFeRD 2 / Factur-X, XRechnung or UBL"
            : "not an e-invoice: not a UBL 2.1 Invoice or CreditNote (root element Invoice in urn:oasis:names:specification:ubl:schema:xsd:Invoice-2 or CreditNote in …:CreditNote-2), nor a UN/CEFACT CrossIndustryInvoice (urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100)";

    public static XmlReaderSettings SecureSettings(ImportOptions options) => new()
    {
        Async = true,
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = options.MaxXmlBytes,
        MaxCharactersFromEntities = 1024,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
    };
}
