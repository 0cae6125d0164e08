using System.IO.Compression;
using System.Text;
using MimeKit;
using MimeKit.Text;

namespace Invisible.Ingestion.Tests.Mail;

/// <summary>Messages of the shapes mail clients really send, built with MimeKit and written out as raw bytes.</summary>
internal static class MailShapes
{
    public const string CsvText = "invoice_number,vendor_code,invoice_date,currency,line_no,description,quantity,unit_price,line_total\nINV-1,V001,2026-01-15,USD,1,Widgets,2,10.00,20.00\n";

    public const string UblText = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>INV-9</ID></Invoice>
        """;

    public static MimeMessage Message(string subject, MimeEntity body, string from = "ap@vendor.example")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse("acme@invoices.localhost"));
        message.Subject = subject;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("vendor.example");
        message.Body = body;
        return message;
    }

    public static TextPart Text(string text) => new(TextFormat.Plain) { Text = text };

    public static MimePart Attachment(string fileName, string contentType, byte[] content, ContentEncoding encoding = ContentEncoding.Base64) => new(contentType)
    {
        Content = new MimeContent(new MemoryStream(content)),
        ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
        ContentTransferEncoding = encoding,
        FileName = fileName,
    };

    public static MimePart Attachment(string fileName, string contentType, string content, ContentEncoding encoding = ContentEncoding.Base64) =>
        Attachment(fileName, contentType, Encoding.UTF8.GetBytes(content), encoding);

    public static Multipart Mixed(params MimeEntity[] parts)
    {
        var mixed = new Multipart("mixed");
        foreach (var part in parts)
        {
            mixed.Add(part);
        }

        return mixed;
    }

    public static MessagePart Forwarded(MimeMessage inner) => new("rfc822") { Message = inner };

    public static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = archive.CreateEntry(name);
                // A fixed time, so the same test builds the same bytes and a seeded mutation hits the same byte every run.
                entry.LastWriteTime = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }

    public static byte[] Bytes(MimeMessage message)
    {
        using var buffer = new MemoryStream();
        message.WriteTo(FormatOptions.Default, buffer);
        return buffer.ToArray();
    }
}
