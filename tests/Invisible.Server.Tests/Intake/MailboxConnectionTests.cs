using System.Text;
using Grpc.Core;
using Invisible.Contracts.Intake.V1;
using Invisible.Server.Intake;
using Invisible.Server.Tests.Accounts;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Invisible.Server.Tests.Intake;

/// <summary>
/// An admin connects the tenant's mailbox through the IntakeService RPCs, against a real Dovecot on loopback: the product
/// then takes its messages in, a wrong password is reported by Test, and a disconnected mailbox is no longer read.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class MailboxConnectionTests(AccountsServer server, DovecotServer dovecot) : IClassFixture<DovecotServer>
{
    private static Google.Protobuf.Reflection.MethodDescriptor Rpc(string name) => IntakeReflection.Descriptor.Services[0].FindMethodByName(name);

    [Fact]
    public async Task A_mailbox_connected_by_rpc_has_its_message_imported_and_moved_to_the_processed_folder_and_keeps_its_password_to_itself()
    {
        var (tenant, admin, user, password) = await AdminWithMailboxUserAsync();
        var connected = await tenant.CallAsync(Rpc("SetMailbox"), new SetMailboxRequest { Settings = Settings(user), Password = password }, admin);
        await dovecot.AppendAsync(user, password, Invoice(tenant, "Invoice MB-1"));

        await server.Server.Services.GetRequiredService<MailboxPoller>().PollOnceAsync(tenant.Id, CancellationToken.None);

        var failures = new List<string>();
        if (connected.Status != StatusCode.OK)
        {
            failures.Add($"SetMailbox: {connected}");
        }

        var folders = await dovecot.FoldersAsync(user, password);
        if (folders["INBOX"].Length != 0 || !folders.TryGetValue("Processed", out var processed) || !processed.SequenceEqual(["Invoice MB-1"]))
        {
            failures.Add($"folders: {string.Join("; ", folders.Select(f => $"{f.Key}: [{string.Join(", ", f.Value)}]"))}");
        }

        var status = await tenant.CallAsync(Rpc("GetMailbox"), new GetMailboxRequest(), admin);
        var mailbox = status.As<Mailbox>();
        if (!mailbox.Connected || mailbox.MessagesProcessed != 1 || !mailbox.PasswordStored || mailbox.LastPolledAt is null || mailbox.LastError.Length > 0)
        {
            failures.Add($"status: {mailbox}");
        }

        if (mailbox.ToString().Contains(password, StringComparison.Ordinal) || connected.Response?.ToString()?.Contains(password, StringComparison.Ordinal) == true)
        {
            failures.Add("the password came back to the client");
        }

        await using (var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None))
        {
            var stored = await unitOfWork.Db.GetTable<IntakeMailboxRow>().SingleAsync();
            if (stored.PasswordEncrypted is null || Encoding.UTF8.GetString(stored.PasswordEncrypted).Contains(password, StringComparison.Ordinal))
            {
                failures.Add("the password is not sealed in the database");
            }

            var audited = await unitOfWork.Db.QueryToListAsync<string>(
                "select action || ' ' || coalesce(after::text, '') from audit_log where entity = 'intake_mailbox'", CancellationToken.None);
            if (audited.Count != 1 || !audited[0].StartsWith("intake.mailbox.connected", StringComparison.Ordinal) || audited[0].Contains(password, StringComparison.Ordinal))
            {
                failures.Add($"audit: [{string.Join(", ", audited)}]");
            }

            var imported = await unitOfWork.Db.GetTable<IntakeMessageRow>().Where(m => m.Source == "imap").Select(m => m.Status).ToListAsync();
            if (!imported.SequenceEqual([MessageStatus.Processed]))
            {
                failures.Add($"intake log: [{string.Join(", ", imported)}]");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Testing_with_a_wrong_password_answers_that_the_server_refused_it()
    {
        var (tenant, admin, user, _) = await AdminWithMailboxUserAsync();

        var tested = (await tenant.CallAsync(Rpc("TestMailbox"), new TestMailboxRequest { Settings = Settings(user), Password = "not-the-password" }, admin))
            .As<TestMailboxResponse>();

        Assert.True(!tested.Ok && tested.Answer.Contains("refused the user name or password", StringComparison.Ordinal), tested.ToString());
    }

    [Fact]
    public async Task Testing_the_stored_password_signs_in_and_reports_the_inbox()
    {
        var (tenant, admin, user, password) = await AdminWithMailboxUserAsync();
        await tenant.CallAsync(Rpc("SetMailbox"), new SetMailboxRequest { Settings = Settings(user), Password = password }, admin);

        var tested = (await tenant.CallAsync(Rpc("TestMailbox"), new TestMailboxRequest { Settings = Settings(user) }, admin)).As<TestMailboxResponse>();

        Assert.True(tested.Ok && tested.Answer.Contains("INBOX holds 0 message(s)", StringComparison.Ordinal), tested.ToString());
    }

    [Fact]
    public async Task After_a_disconnect_the_running_watch_ends_and_new_mail_stays_in_the_inbox()
    {
        var (tenant, admin, user, password) = await AdminWithMailboxUserAsync();
        await tenant.CallAsync(Rpc("SetMailbox"), new SetMailboxRequest { Settings = Settings(user), Password = password }, admin);
        var poller = server.Server.Services.GetRequiredService<MailboxPoller>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var watch = Task.Run(() => poller.WatchAsync(tenant.Id, stop.Token));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await poller.FindMailboxAsync(tenant.Id, CancellationToken.None))?.UidValidity is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var disconnected = await tenant.CallAsync(Rpc("DisconnectMailbox"), new DisconnectMailboxRequest(), admin);
        var ended = await Task.WhenAny(watch, Task.Delay(TimeSpan.FromSeconds(20))) == watch;
        await dovecot.AppendAsync(user, password, Invoice(tenant, "Invoice MB-late"));
        await poller.PollOnceAsync(tenant.Id, CancellationToken.None);

        var folders = await dovecot.FoldersAsync(user, password);
        Assert.True(
            disconnected.Status == StatusCode.OK && !disconnected.As<Mailbox>().Connected && ended && folders["INBOX"].SequenceEqual(["Invoice MB-late"]),
            $"disconnect: {disconnected}; watch ended: {ended}; inbox: [{string.Join(", ", folders["INBOX"])}]");
    }

    [Fact]
    public async Task A_first_connection_without_a_password_is_refused_with_the_field_named()
    {
        var (tenant, admin, user, _) = await AdminWithMailboxUserAsync();

        var refused = await tenant.CallAsync(Rpc("SetMailbox"), new SetMailboxRequest { Settings = Settings(user) }, admin);

        Assert.True(refused.Status == StatusCode.InvalidArgument && refused.Message.Contains("password", StringComparison.Ordinal), refused.ToString());
    }

    private async Task<(TestTenant Tenant, string Admin, string User, string Password)> AdminWithMailboxUserAsync()
    {
        var tenant = await server.NewTenantAsync();
        var admin = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var (user, password) = dovecot.NewUser();
        return (tenant, admin, user, password);
    }

    private MailboxSettings Settings(string user) =>
        new() { Host = dovecot.Host, Port = dovecot.Port, Tls = MailboxTls.None, Username = user };

    private static MimeMessage Invoice(TestTenant tenant, string subject)
    {
        var number = subject.Split(' ')[^1];
        var csv = "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
                  $"{number},Acme Supplies,2026-01-12,GBP,,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n";
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(tenant.Admin.Email));
        message.To.Add(MailboxAddress.Parse($"{tenant.Slug}@mail.example"));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@mail.example";
        message.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "see attached" },
            new MimePart("text", "csv")
            {
                Content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes(csv))),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                FileName = $"{number}.csv",
            },
        };
        return message;
    }
}
