namespace Invisible.Ingestion.Mail;

/// <summary>A cheap look for embedded files (Factur-X, ZUGFeRD, XRechnung in a PDF): only such a PDF can be imported.</summary>
public static class PdfContent
{
    public static bool MayEmbedInvoiceData(ReadOnlySpan<byte> pdf) =>
        pdf.IndexOf("/EmbeddedFile"u8) >= 0 || pdf.IndexOf("factur-x.xml"u8) >= 0 || pdf.IndexOf("zugferd-invoice.xml"u8) >= 0;
}
