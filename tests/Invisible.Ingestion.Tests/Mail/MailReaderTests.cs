using System.Text;
using Invisible.Ingestion.Mail;
using MimeKit;
using static Invisible.Ingestion.Tests.Mail.MailShapes;

namespace Invisible.Ingestion.Tests.Mail;

public sealed class MailReaderTests
{
    private static MailReading Read(MimeMessage message) => MailReader.Read(new MemoryStream(Bytes(message)));

    private static MailReading Read(string raw) => MailReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(raw.ReplaceLineEndings("\r\n"))));

    [Fact]
    public void A_multipart_mixed_message_yields_its_csv_and_xml_attachments_in_order_and_not_its_body_text()
    {
        var reading = Read(Message("March", Mixed(Text("Please find attached."), Attachment("invoice.csv", "text/csv", CsvText), Attachment("invoice.xml", "application/xml", UblText))));

        Assert.Equal(
            [("invoice.csv", MailPartKind.InvoiceFile, CsvText), ("invoice.xml", MailPartKind.InvoiceFile, UblText)],
            reading.Parts.Select(p => (p.Path, p.Kind, Encoding.UTF8.GetString(p.Content))).ToArray());
    }

    [Fact]
    public void A_multipart_alternative_body_inside_mixed_is_not_an_attachment()
    {
        var alternative = new MultipartAlternative { Text("plain"), new TextPart(MimeKit.Text.TextFormat.Html) { Text = "<p>html</p>" } };
        var reading = Read(Message("Alt", Mixed(alternative, Attachment("a.csv", "text/csv", CsvText))));

        Assert.Equal(["a.csv"], reading.Parts.Select(p => p.Path));
    }

    [Fact]
    public void Attachments_of_nested_forwarded_messages_are_found_with_their_path()
    {
        var innermost = Message("original", Mixed(Text("inner"), Attachment("deep.xml", "application/xml", UblText)));
        var middle = Message("Fwd: original", Mixed(Text("fwd"), Forwarded(innermost)), from: "clerk@acme.example");
        var outer = Message("Fwd: Fwd: original", Mixed(Text("fwd again"), Attachment("top.csv", "text/csv", CsvText), Forwarded(middle)), from: "boss@acme.example");

        var reading = Read(outer);

        Assert.Equal(["top.csv", "forwarded-1/forwarded-2/deep.xml"], reading.Parts.Select(p => p.Path));
    }

    [Fact]
    public void Quoted_printable_and_base64_attachments_decode_to_the_same_bytes()
    {
        var csv = "invoice_number,description\nINV-1,Gr\u00f6\u00dfe = 10 \u20ac\n";
        var reading = Read(Message("Encodings", Mixed(
            Attachment("qp.csv", "text/csv", csv, ContentEncoding.QuotedPrintable),
            Attachment("b64.csv", "text/csv", csv, ContentEncoding.Base64))));

        Assert.All(reading.Parts, part => Assert.Equal(csv, Encoding.UTF8.GetString(part.Content)));
    }

    [Fact]
    public void Rfc2047_and_rfc2231_encoded_file_names_are_decoded()
    {
        var raw = """
            From: ap@vendor.example
            To: acme@invoices.localhost
            Subject: =?UTF-8?Q?Rechnung_M=C3=A4rz?=
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/csv; name="=?UTF-8?B?UmVjaG51bmcgTcOkcnouY3N2?="
            Content-Disposition: attachment

            a,b
            --b
            Content-Type: application/xml
            Content-Disposition: attachment; filename*=UTF-8''Facture%20%C3%A9t%C3%A9.xml

            <Invoice/>
            --b--
            """;

        var reading = Read(raw);

        Assert.Equal("Rechnung März | Rechnung März.csv | Facture été.xml", string.Join(" | ", [reading.Subject, .. reading.Parts.Select(p => p.FileName)]));
    }

    [Fact]
    public void A_tnef_winmail_dat_is_ignored_with_a_note_saying_why()
    {
        var reading = Read(Message("Outlook", Mixed(Text("see attached"), Attachment("winmail.dat", "application/ms-tnef", new byte[] { 0x78, 0x9f, 0x3e, 0x22, 0, 0 }))));

        var part = Assert.Single(reading.Parts);
        Assert.True(part.Kind == MailPartKind.Ignored && part.Note!.Contains("TNEF", StringComparison.Ordinal), $"{part.Kind}: {part.Note}");
    }

    [Fact]
    public void A_message_without_attachments_has_no_parts()
    {
        Assert.Empty(Read(Message("Hello", Text("just a note"))).Parts);
    }

    [Fact]
    public void Images_and_signatures_are_ignored_with_notes_and_no_bytes()
    {
        var reading = Read(Message("Signed", Mixed(Text("hi"), Attachment("logo.png", "image/png", new byte[] { 0x89, 0x50, 0x4e, 0x47 }),
            Attachment("smime.p7s", "application/pkcs7-signature", new byte[] { 1, 2, 3 }), Attachment("a.csv", "text/csv", CsvText))));

        Assert.Equal(
            [MailPartKind.Ignored, MailPartKind.Ignored, MailPartKind.InvoiceFile],
            reading.Parts.Select(p => p.Kind).ToArray());
    }

    [Fact]
    public void Zip_entries_become_parts_named_inside_the_zip_and_a_nested_zip_is_unpacked_too()
    {
        var inner = Zip(("c.xml", Encoding.UTF8.GetBytes(UblText)));
        var zip = Zip(("march/a.csv", Encoding.UTF8.GetBytes(CsvText)), ("scan.pdf", "%PDF-1.4 plain"u8.ToArray()), ("more.zip", inner), ("readme.docx", [1, 2]));

        var reading = Read(Message("Zipped", Mixed(Attachment("invoices.zip", "application/zip", zip))));

        Assert.Equal(
            [("invoices.zip/march/a.csv", MailPartKind.InvoiceFile), ("invoices.zip/scan.pdf", MailPartKind.Pdf),
             ("invoices.zip/more.zip/c.xml", MailPartKind.InvoiceFile), ("invoices.zip/readme.docx", MailPartKind.Ignored)],
            reading.Parts.Select(p => (p.Path, p.Kind)).ToArray());
    }

    [Fact]
    public void A_zip_bomb_is_one_unreadable_part_and_none_of_its_entries_are_used()
    {
        var bomb = Zip(("a.csv", Encoding.UTF8.GetBytes(CsvText)), ("huge.csv", new byte[50_000_000]));

        var reading = Read(Message("Bomb", Mixed(Attachment("bomb.zip", "application/zip", bomb))));

        var part = Assert.Single(reading.Parts);
        Assert.True(part is { Kind: MailPartKind.Unreadable, Size: 0 }, $"{part.Path} {part.Kind} {part.Size}: {part.Note}");
    }

    [Fact]
    public void A_truncated_zip_is_unreadable_rather_than_partly_read()
    {
        var zip = Zip(("a.csv", Encoding.UTF8.GetBytes(CsvText)), ("b.csv", Encoding.UTF8.GetBytes(CsvText)));

        var reading = Read(Message("Cut", Mixed(Attachment("cut.zip", "application/zip", zip[..(zip.Length / 2)]))));

        Assert.Equal([MailPartKind.Unreadable], reading.Parts.Select(p => p.Kind));
    }

    [Fact]
    public void Dkim_and_spf_failures_recorded_by_the_relay_are_read_with_their_domain()
    {
        var raw = """
            Authentication-Results: mx.acme.example; dkim=fail header.d=vendor.example; spf=pass smtp.mailfrom=ap@vendor.example
            Authentication-Results: mx.acme.example; spf=fail smtp.mailfrom=bounce@other.example
            From: ap@vendor.example
            To: acme@invoices.localhost
            Subject: x

            body
            """;

        Assert.Equal(
            [new AuthenticationFailure("dkim", "vendor.example"), new AuthenticationFailure("spf", "other.example")],
            Read(raw).AuthenticationFailures);
    }
}
