using System.Text;
using Invisible.Platform.Secrets;
using Invisible.Server.Intake;
using Invisible.Server.Tests.Accounts;
using LinqToDB;
using LinqToDB.Async;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Invisible.Server.Tests.Intake;

/// <summary>
/// Polling a tenant's mailbox on a real Dovecot (started on loopback by <see cref="DovecotServer"/>): messages delivered by
/// APPEND are taken in through the product's intake and moved out of the INBOX, across restarts and through IDLE.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class MailboxPollingTests(AccountsServer server, DovecotServer dovecot) : IClassFixture<DovecotServer>
{
    private const int MaxMessageBytes = 8 * 1024;

    private readonly ConnectedMailboxPasswords _secrets = new();

    [Fact]
    public async Task Messages_in_the_inbox_are_taken_in_once_each_and_moved_to_the_processed_folder()
    {
        var mailbox = await ConnectedMailboxAsync();
        await AppendInvoiceAsync(mailbox, "Invoice M-1");
        await AppendInvoiceAsync(mailbox, "Invoice M-2");

        await Poller().PollOnceAsync(mailbox.Tenant.Id, CancellationToken.None);

        var folders = await dovecot.FoldersAsync(mailbox.User, mailbox.Password);
        var taken = await TakenSubjectsAsync(mailbox);
        Assert.True(
            folders["INBOX"].Length == 0 && folders["Processed"].SequenceEqual(["Invoice M-1", "Invoice M-2"]) && taken.SequenceEqual(["Invoice M-1", "Invoice M-2"]),
            $"{Describe(folders)}; taken: {string.Join(", ", taken)}");
    }

    [Fact]
    public async Task A_message_the_intake_refuses_is_moved_to_the_failed_folder_and_the_rest_still_processed()
    {
        var mailbox = await ConnectedMailboxAsync();
        await AppendInvoiceAsync(mailbox, "Invoice F-1", padding: MaxMessageBytes * 2);
        await AppendInvoiceAsync(mailbox, "Invoice F-2");

        await Poller().PollOnceAsync(mailbox.Tenant.Id, CancellationToken.None);

        var folders = await dovecot.FoldersAsync(mailbox.User, mailbox.Password);
        Assert.True(
            folders["INBOX"].Length == 0 && folders["Failed"].SequenceEqual(["Invoice F-1"]) && folders["Processed"].SequenceEqual(["Invoice F-2"]),
            Describe(folders));
    }

    [Fact]
    public async Task A_restarted_poller_takes_what_arrived_while_it_was_stopped_and_nothing_twice()
    {
        var mailbox = await ConnectedMailboxAsync();
        await AppendInvoiceAsync(mailbox, "Invoice R-1");
        await AppendInvoiceAsync(mailbox, "Invoice R-2");
        await Poller().PollOnceAsync(mailbox.Tenant.Id, CancellationToken.None);

        await AppendInvoiceAsync(mailbox, "Invoice R-3");
        await AppendInvoiceAsync(mailbox, "Invoice R-4");
        await Poller().PollOnceAsync(mailbox.Tenant.Id, CancellationToken.None);
        await Poller().PollOnceAsync(mailbox.Tenant.Id, CancellationToken.None);

        var taken = await TakenSubjectsAsync(mailbox);
        var folders = await dovecot.FoldersAsync(mailbox.User, mailbox.Password);
        Assert.True(
            taken.SequenceEqual(["Invoice R-1", "Invoice R-2", "Invoice R-3", "Invoice R-4"]) && folders["Processed"].Length == 4,
            $"taken: {string.Join(", ", taken)}; {Describe(folders)}");
    }

    [Fact]
    public async Task A_message_left_in_the_inbox_by_a_crash_before_the_move_is_recorded_as_a_duplicate_not_imported_again()
    {
        var mailbox = await ConnectedMailboxAsync();
        var message = Invoice(mailbox, "Invoice C-1", 0);
        await dovecot.AppendAsync(mailbox.User, mailbox.Password, message);
        await Poller().PollOnceAsync(mailbox.Tenant.Id, CancellationToken.None);
        // The crash window: the intake recorded the message, the move and last_uid did not happen.
        await dovecot.AppendAsync(mailbox.User, mailbox.Password, message);

        await Poller().PollOnceAsync(mailbox.Tenant.Id, CancellationToken.None);

        await using var unitOfWork = await mailbox.Tenant.Database.BeginAsync(mailbox.Tenant.Id, CancellationToken.None);
        var statuses = await unitOfWork.Db.GetTable<IntakeMessageRow>().OrderBy(m => m.MessageNo).Select(m => m.Status).ToListAsync();
        Assert.Equal([MessageStatus.Processed, MessageStatus.Duplicate], statuses);
    }

    [Fact]
    public async Task With_idle_a_new_message_is_taken_at_once_rather_than_at_the_next_poll()
    {
        var mailbox = await ConnectedMailboxAsync();
        var poller = Poller(pollInterval: TimeSpan.FromHours(1));
        using var stop = new CancellationTokenSource();
        var watch = Task.Run(() => poller.WatchAsync(mailbox.Tenant.Id, stop.Token));
        await WaitUntilAsync(async () => (await poller.FindMailboxAsync(mailbox.Tenant.Id, CancellationToken.None))?.UidValidity is not null, watch);

        await AppendInvoiceAsync(mailbox, "Invoice I-1");

        var taken = await WaitUntilAsync(async () => (await TakenSubjectsAsync(mailbox)).Contains("Invoice I-1"), watch);
        await stop.CancelAsync();
        await watch;
        Assert.True(taken, $"the message was not taken within 30 seconds; dovecot log:\n{dovecot.Log()}");
    }

    private MailboxPoller Poller(TimeSpan? pollInterval = null) =>
        ActivatorUtilities.CreateInstance<MailboxPoller>(
            server.Server.Services,
            _secrets,
            Options.Create(new MailboxPollingOptions { PollInterval = pollInterval ?? TimeSpan.FromSeconds(1), IdleTimeout = TimeSpan.FromMinutes(1) }),
            Options.Create(new EmailIntakeOptions { MaxMessageBytes = MaxMessageBytes }));

    private async Task<Mailbox> ConnectedMailboxAsync()
    {
        var tenant = await server.NewTenantAsync();
        var (user, password) = dovecot.NewUser();
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        await unitOfWork.Db.InsertAsync(new IntakeMailboxRow
        {
            TenantId = tenant.Id,
            Host = dovecot.Host,
            Port = dovecot.Port,
            Tls = MailboxTls.None,
            Username = user,
            SecretName = SecretNames.IntakeMailboxPassword(tenant.Id),
            UpdatedBy = "test",
            UpdatedAt = DateTimeOffset.UtcNow,
        });
        await unitOfWork.CommitAsync(CancellationToken.None);
        _secrets.Passwords[SecretNames.IntakeMailboxPassword(tenant.Id)] = password;
        return new Mailbox(tenant, user, password);
    }

    private Task AppendInvoiceAsync(Mailbox mailbox, string subject, int padding = 0) =>
        dovecot.AppendAsync(mailbox.User, mailbox.Password, Invoice(mailbox, subject, padding));

    private static MimeMessage Invoice(Mailbox mailbox, string subject, int padding)
    {
        var number = subject.Split(' ')[^1];
        var csv = "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
                  $"{number},Acme Supplies,2026-01-12,GBP,,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n";
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(mailbox.Tenant.Admin.Email));
        message.To.Add(MailboxAddress.Parse($"{mailbox.User}@mail.example"));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@mail.example";
        message.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "see attached" + new string('.', padding) },
            new MimePart("text", "csv")
            {
                Content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes(csv))),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                FileName = $"{number}.csv",
            },
        };
        return message;
    }

    private static async Task<string[]> TakenSubjectsAsync(Mailbox mailbox)
    {
        await using var unitOfWork = await mailbox.Tenant.Database.BeginAsync(mailbox.Tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.GetTable<IntakeMessageRow>().Where(m => m.Source == "imap").Select(m => m.Subject).ToListAsync()).Order().ToArray();
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, Task watch)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !watch.IsCompleted)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static string Describe(IReadOnlyDictionary<string, string[]> folders) =>
        string.Join("; ", folders.Select(folder => $"{folder.Key}: [{string.Join(", ", folder.Value)}]"));

    private sealed record Mailbox(TestTenant Tenant, string User, string Password);

    /// <summary>
    /// The secret store as an admin's connecting of the mailbox fills it: the mailbox's password under the tenant's secret name.
    /// </summary>
    private sealed class ConnectedMailboxPasswords : ISecretStore
    {
        public System.Collections.Concurrent.ConcurrentDictionary<string, string> Passwords { get; } = new();

        public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken) =>
            Passwords.TryGetValue(name, out var password) ? Task.FromResult(password) : throw new SecretNotFoundException(name, "test's connected mailboxes");
    }
}
