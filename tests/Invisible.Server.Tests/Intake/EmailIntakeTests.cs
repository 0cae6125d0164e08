using System.IO.Compression;
using System.Text;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform.Blobs;
using Invisible.Server.Imports;
using Invisible.Server.Intake;
using Invisible.Server.Tests.Accounts;
using LinqToDB;
using LinqToDB.Async;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Invisible.Server.Tests.Intake;

/// <summary>The intake of one message through the product's own services: every attachment's outcome, kept files, audit.</summary>
[Collection(AccountsCollection.Name)]
public sealed class EmailIntakeTests(AccountsServer server)
{
    private const string InvoiceCsv =
        "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
        "Z-1,Acme Supplies,2026-01-12,GBP,,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n";

    private const string BrokenCsv =
        "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
        "Z-2,Acme Supplies,not a date,GBP,,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n";

    private EmailIntake Intake => server.Server.Services.GetRequiredService<EmailIntake>();

    [Fact]
    public async Task Each_attachment_of_a_forwarded_and_zipped_message_gets_its_own_outcome_and_a_plain_pdf_is_kept_to_key()
    {
        var tenant = await server.NewTenantAsync();
        var forwarded = Message("ap@acme.example", "Invoice Z-1", Attachment("z1.csv", "text/csv", Encoding.UTF8.GetBytes(InvoiceCsv)));
        var zip = Zip(("scan.pdf", "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"u8.ToArray()), ("z2.csv", Encoding.UTF8.GetBytes(BrokenCsv)));
        var outer = Message(tenant.Admin.Email, "Fwd: invoices",
            new MessagePart("rfc822") { Message = forwarded },
            Attachment("batch.zip", "application/zip", zip),
            Attachment("logo.png", "image/png", [0x89, 0x50, 0x4e, 0x47]));

        var result = await Intake.ReceiveAsync(tenant.Id, Bytes(outer), IntakeSource.Smtp, CancellationToken.None);

        var pdf = result.Attachments.Single(a => a.Outcome == AttachmentOutcome.ToKey);
        var kept = await server.Server.Services.GetRequiredService<IBlobStore>().GetAsync(pdf.PdfBlob!, CancellationToken.None);
        Assert.Equal(
            [("forwarded-1/z1.csv", "imported"), ("batch.zip/scan.pdf", "to_key"), ("batch.zip/z2.csv", "rejected"), ("logo.png", "ignored")],
            result.Attachments.Select(a => (a.Path, a.Outcome)).ToArray());
        Assert.True(kept is not null && Encoding.ASCII.GetString(kept).StartsWith("%PDF", StringComparison.Ordinal), "the PDF to key was not kept");
    }

    [Fact]
    public async Task Every_message_is_audited_with_its_attachments_outcomes()
    {
        var tenant = await server.NewTenantAsync();

        var result = await Intake.ReceiveAsync(tenant.Id,
            Bytes(Message(tenant.Admin.Email, "Invoice", Attachment("z1.csv", "text/csv", Encoding.UTF8.GetBytes(InvoiceCsv)))), IntakeSource.Smtp, CancellationToken.None);

        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        var entries = await unitOfWork.Db.FromSql<AuditRow>(
            $"select action as \"Action\", entity_id as \"EntityId\", after::text as \"After\" from audit_log where entity = 'intake_message'").ToListAsync();
        var entry = Assert.Single(entries);
        Assert.True(entry.Action == "intake.message.processed" && entry.EntityId == result.MessageId.ToString() && entry.After!.Contains("imported", StringComparison.Ordinal),
            $"{entry.Action} {entry.EntityId} {entry.After}");
    }

    private sealed class AuditRow
    {
        public string Action { get; set; } = "";
        public string? EntityId { get; set; }
        public string? After { get; set; }
    }

    private static MimeMessage Message(string from, string subject, params MimeEntity[] attachments)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse("someone@invoices.localhost"));
        message.Subject = subject;
        var mixed = new Multipart("mixed") { new TextPart("plain") { Text = "see attached" } };
        foreach (var attachment in attachments)
        {
            mixed.Add(attachment);
        }

        message.Body = mixed;
        return message;
    }

    private static MimePart Attachment(string name, string type, byte[] content) => new(type)
    {
        Content = new MimeContent(new MemoryStream(content)),
        ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
        ContentTransferEncoding = ContentEncoding.Base64,
        FileName = name,
    };

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = archive.CreateEntry(name).Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] Bytes(MimeMessage message)
    {
        using var buffer = new MemoryStream();
        message.WriteTo(buffer);
        return buffer.ToArray();
    }
}
