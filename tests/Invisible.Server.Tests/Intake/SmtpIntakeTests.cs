using System.Net;
using System.Net.Sockets;
using System.Text;
using Grpc.Core;
using Invisible.Contracts.Intake.V1;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Server.Imports;
using Invisible.Server.Intake;
using Invisible.Server.Tests.Accounts;
using MailKit.Net.Smtp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Invisible.Server.Tests.Intake;

/// <summary>
/// SMTP conversations with a real client (MailKit's SmtpClient, and a bare socket where a client would refuse to try)
/// against the product's own listener, then the intake log read back over gRPC.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class SmtpIntakeTests(AccountsServer server)
{
    private const string InvoiceCsv =
        "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
        "A-1,Acme Supplies,2026-01-12,GBP,PO-7,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n";

    private static Google.Protobuf.Reflection.MethodDescriptor Method(string name) => IntakeReflection.Descriptor.Services[0].FindMethodByName(name);

    private IPEndPoint Listener => IPEndPoint.Parse(server.Server.Endpoints.Smtp!);

    [Fact]
    public void Endpoints_json_names_the_smtp_listener_on_loopback()
    {
        Assert.True(IPAddress.IsLoopback(Listener.Address) && Listener.Port > 0, server.Server.Endpoints.Smtp);
    }

    [Fact]
    public async Task A_vendors_message_is_accepted_and_its_attachment_imported_and_logged()
    {
        var tenant = await SuppliedTenantAsync();

        var reply = await SendAsync(Invoice(tenant, "ap@acme.example", $"inv-{Guid.NewGuid():N}@acme.example"));

        var log = await ListAsync(tenant);
        var message = Assert.Single(log.Messages);
        var attachment = Assert.Single(message.Attachments);
        Assert.True(
            message.Status == "processed" && attachment.Outcome == "imported" && attachment.ImportNo > 0 && reply.Contains("processed", StringComparison.Ordinal),
            $"{reply}; {message}");
    }

    [Fact]
    public async Task An_unknown_recipient_is_refused_at_rcpt_with_550()
    {
        var message = Invoice(await server.NewTenantAsync(), "ap@acme.example", null);
        message.To.Clear();
        message.To.Add(MailboxAddress.Parse("nobody-here@invoices.localhost"));

        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(message));

        Assert.Equal((SmtpErrorCode.RecipientNotAccepted, 550), (refused.ErrorCode, (int)refused.StatusCode));
    }

    [Fact]
    public async Task A_message_from_an_unknown_sender_is_held_and_a_clerk_release_imports_it()
    {
        var tenant = await SuppliedTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        await SendAsync(Invoice(tenant, "stranger@elsewhere.example", null));
        var held = Assert.Single((await ListAsync(tenant)).Messages);

        var released = (await tenant.CallAsync(Method("ReleaseMessage"), new DecideMessageRequest { MessageId = held.Id }, token)).As<IntakeMessage>();
        var again = await tenant.CallAsync(Method("ReleaseMessage"), new DecideMessageRequest { MessageId = held.Id }, token);

        Assert.Equal(
            ("held", "held", "released", "imported", StatusCode.FailedPrecondition),
            (held.Status, held.Attachments.Single().Outcome, released.Status, released.Attachments.Single().Outcome, again.Status));
    }

    [Fact]
    public async Task A_dkim_failure_for_a_vendors_domain_holds_the_message()
    {
        var tenant = await SuppliedTenantAsync();
        var message = Invoice(tenant, "ap@acme.example", null);
        message.Headers.Add("Authentication-Results", "mx.example.net; dkim=fail header.d=acme.example");

        await SendAsync(message);

        var logged = Assert.Single((await ListAsync(tenant)).Messages);
        Assert.True(logged.Status == "held" && logged.Trust.Contains("dkim=fail", StringComparison.Ordinal), logged.ToString());
    }

    [Fact]
    public async Task A_resent_message_is_recorded_as_a_duplicate_and_imports_nothing_twice()
    {
        var tenant = await SuppliedTenantAsync();
        var message = Invoice(tenant, "ap@acme.example", $"once-{Guid.NewGuid():N}@acme.example");

        await SendAsync(message);
        await SendAsync(message);

        var log = await ListAsync(tenant);
        Assert.Equal(
            [("duplicate", 0), ("processed", 1)],
            log.Messages.Select(m => (m.Status, m.Attachments.Count(a => a.Outcome == "imported"))).ToArray());
    }

    [Fact]
    public async Task An_oversize_message_is_refused_with_552_and_the_limit_is_announced_in_ehlo()
    {
        var tenant = await server.NewTenantAsync();
        await using var listener = await StartListenerAsync(new EmailIntakeOptions { MaxMessageBytes = 64 * 1024 });

        var transcript = await RawConversationAsync(listener.Endpoint, $"{tenant.Slug}@invoices.localhost", new string('x', 100 * 1024));

        Assert.True(transcript.Contains("SIZE 65536", StringComparison.Ordinal) && transcript.Contains("\n552", StringComparison.Ordinal), transcript);
    }

    [Fact]
    public async Task A_sender_ip_over_its_rate_is_told_to_try_later_with_421()
    {
        var tenant = await SuppliedTenantAsync();
        await using var listener = await StartListenerAsync(new EmailIntakeOptions { MessagesPerMinutePerIp = 2 });

        var codes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            try
            {
                await SendAsync(Invoice(tenant, "ap@acme.example", null), listener.Endpoint);
                codes.Add("250");
            }
            catch (SmtpCommandException refused)
            {
                codes.Add(((int)refused.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        Assert.Equal(["250", "250", "421"], codes);
    }

    [Fact]
    public async Task With_a_certificate_configured_starttls_is_offered_and_a_message_arrives_encrypted()
    {
        var tenant = await SuppliedTenantAsync();
        using var directory = new Testing.TemporaryDirectory("invisible-smtp-tls-");
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=invoices.localhost", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var certificatePath = Path.Combine(directory.Path, "smtp.crt");
        var keyPath = Path.Combine(directory.Path, "smtp.key");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        await using var listener = await StartListenerAsync(new EmailIntakeOptions { CertificatePath = certificatePath, CertificateKeyPath = keyPath });

        // Pinned to the certificate the test made: the listener must present exactly it.
        var thumbprint = certificate.Thumbprint;
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == thumbprint };
        await client.ConnectAsync(listener.Endpoint.Address.ToString(), listener.Endpoint.Port, MailKit.Security.SecureSocketOptions.StartTls);
        var encrypted = client.IsEncrypted;
        await client.SendAsync(Invoice(tenant, "ap@acme.example", null));
        await client.DisconnectAsync(quit: true);

        Assert.True(encrypted && (await ListAsync(tenant)).Messages.Single().Status == "processed");
    }

    private async Task<ListMessagesResponse> ListAsync(TestTenant tenant)
    {
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        return (await tenant.CallAsync(Method("ListMessages"), new ListMessagesRequest(), token)).As<ListMessagesResponse>();
    }

    private static MimeMessage Invoice(TestTenant tenant, string from, string? messageId)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse($"{tenant.Slug}@invoices.localhost"));
        message.Subject = "Invoice A-1";
        if (messageId is not null)
        {
            message.MessageId = messageId;
        }

        var body = new BodyBuilder { TextBody = "Please find our invoice attached." };
        body.Attachments.Add("invoice.csv", Encoding.UTF8.GetBytes(InvoiceCsv), new ContentType("text", "csv"));
        message.Body = body.ToMessageBody();
        return message;
    }

    private async Task<string> SendAsync(MimeMessage message, IPEndPoint? endpoint = null)
    {
        endpoint ??= Listener;
        using var client = new SmtpClient();
        await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, MailKit.Security.SecureSocketOptions.None);
        var reply = await client.SendAsync(message);
        await client.DisconnectAsync(quit: true);
        return reply;
    }

    /// <summary>A bare conversation: MailKit itself would refuse to send a message over the announced SIZE.</summary>
    private static async Task<string> RawConversationAsync(IPEndPoint endpoint, string recipient, string body)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint);
        using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        var transcript = new StringBuilder();
        async Task ReplyAsync()
        {
            string? line;
            do
            {
                line = await reader.ReadLineAsync();
                transcript.Append(line).Append('\n');
            }
            while (line is { Length: > 3 } && line[3] == '-');
        }

        await ReplyAsync();
        foreach (var command in new[] { "EHLO client.example", "MAIL FROM:<ap@acme.example>", $"RCPT TO:<{recipient}>", "DATA" })
        {
            await writer.WriteLineAsync(command);
            await ReplyAsync();
        }

        await writer.WriteAsync($"Subject: big\r\n\r\n{body}\r\n.\r\n");
        await ReplyAsync();
        return transcript.ToString();
    }

    private async Task<RunningListener> StartListenerAsync(EmailIntakeOptions options)
    {
        var listener = ActivatorUtilities.CreateInstance<SmtpIntakeListener>(server.Server.Services, Options.Create(options));
        await listener.StartAsync(CancellationToken.None);
        return new RunningListener(listener);
    }

    private sealed class RunningListener(SmtpIntakeListener listener) : IAsyncDisposable
    {
        public IPEndPoint Endpoint => listener.BoundEndpoint!;

        public async ValueTask DisposeAsync()
        {
            await listener.StopAsync(CancellationToken.None);
            listener.Dispose();
        }
    }

    /// <summary>A tenant whose vendor master knows ap@acme.example, with the purchase order the invoice refers to.</summary>
    private async Task<TestTenant> SuppliedTenantAsync()
    {
        var tenant = await server.NewTenantAsync();
        await ImportAsync(tenant, DocumentKind.Vendors,
            "vendor_code,name,tax_id,email,country,currency,payment_terms\nV1,Acme Supplies Ltd,GB123456789,ap@acme.example,GB,GBP,NET30\n");
        await ImportAsync(tenant, DocumentKind.PurchaseOrders,
            "po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price\nPO-7,V1,2026-01-05,GBP,1,T-26A,Toner 26A,4,80.00\n");
        return tenant;
    }

    private async Task ImportAsync(TestTenant tenant, DocumentKind kind, string content)
    {
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var outcome = await server.Server.Services.GetRequiredService<ImportService>().ImportAsync(
            tenant.Id, new ImportRequest(kind, $"{kind}.csv", ImportSource.Cli, "tester", null), stream, new ImportOptions(), null, CancellationToken.None);
        Assert.True(outcome.Kind == ImportOutcomeKind.Stored, string.Join('\n', outcome.Parse.Errors));
    }
}
