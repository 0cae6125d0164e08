using Invisible.Data.Access;
using Invisible.Data.Tenancy;
using Invisible.Platform.Secrets;
using Invisible.Server.FieldEncryption;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Server.Intake;

/// <summary>
/// The mailbox a tenant's admin connected (intake_mailboxes); its password sealed in PasswordEncrypted (connected from the
/// product) or in the secret store under SecretName (configured by an operator).
/// </summary>
[Table("intake_mailboxes")]
public sealed class IntakeMailboxRow
{
    [Column("tenant_id"), PrimaryKey] public Guid TenantId { get; set; }
    [Column("host")] public string Host { get; set; } = "";
    [Column("port")] public int Port { get; set; }
    [Column("tls")] public string Tls { get; set; } = MailboxTls.Implicit;
    [Column("username")] public string Username { get; set; } = "";
    [Column("secret_name")] public string? SecretName { get; set; }
    [Column("password_encrypted")] public byte[]? PasswordEncrypted { get; set; }
    [Column("processed_folder")] public string ProcessedFolder { get; set; } = "Processed";
    [Column("failed_folder")] public string FailedFolder { get; set; } = "Failed";
    [Column("uid_validity")] public long? UidValidity { get; set; }
    [Column("last_uid")] public long LastUid { get; set; }
    [Column("last_polled_at")] public DateTimeOffset? LastPolledAt { get; set; }
    [Column("last_error")] public string? LastError { get; set; }
    [Column("updated_by")] public string UpdatedBy { get; set; } = "";
    [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>How the connection to the IMAP server is secured (intake_mailboxes.tls).</summary>
public static class MailboxTls
{
    public const string None = "none";
    public const string StartTls = "starttls";
    public const string Implicit = "implicit";

    public static readonly string[] All = [None, StartTls, Implicit];

    public static SecureSocketOptions ToSocketOptions(string tls) => tls switch
    {
        None => SecureSocketOptions.None,
        StartTls => SecureSocketOptions.StartTls,
        _ => SecureSocketOptions.SslOnConnect,
    };
}

/// <summary>What one pass over a mailbox's inbox did.</summary>
public sealed record MailboxPass(int Processed, int Failed);

/// <summary>
/// Reads a tenant's connected mailbox over IMAP: each message of the INBOX not yet taken (its UID above last_uid under the
/// same UIDVALIDITY) goes to <see cref="EmailIntake"/>, then is moved to the processed folder, or to the failed folder when
/// the intake threw or the message is above Email:Intake:MaxMessageBytes. last_uid advances only after the move, so a crash in between hands the message over again, and the
/// intake's Message-ID/content dedupe records it as a duplicate instead of importing it twice.
/// </summary>
public sealed class MailboxPoller(
    TenantDatabase tenants,
    NpgsqlDataSource appDataSource,
    ISecretStore secrets,
    PersonalDataKeys keys,
    MailboxSignals signals,
    EmailIntake intake,
    TimeProvider time,
    IOptions<MailboxPollingOptions> options,
    IOptions<EmailIntakeOptions> intakeOptions,
    ILogger<MailboxPoller> logger)
{
    /// <summary>The tenants with a connected mailbox, asked across tenants through the directory function of migration 0017.</summary>
    public async Task<IReadOnlyList<Guid>> TenantsWithMailboxAsync(CancellationToken cancellationToken)
    {
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        // A SECURITY DEFINER set-returning function, so raw SQL: the one cross-tenant question the poller asks.
        return await db.QueryToListAsync<Guid>("select intake_tenants_with_mailbox()", cancellationToken);
    }

    public async Task<IntakeMailboxRow?> FindMailboxAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.GetTable<IntakeMailboxRow>().FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Connects, takes every new message once, and disconnects; null when the tenant has no mailbox.</summary>
    public async Task<MailboxPass?> PollOnceAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        if (await FindMailboxAsync(tenantId, cancellationToken) is not { } mailbox)
        {
            return null;
        }

        using var client = new ImapClient();
        try
        {
            var inbox = await OpenAsync(client, mailbox, cancellationToken);
            return await TakeNewAsync(client, inbox, mailbox, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await RecordErrorAsync(tenantId, e, cancellationToken);
            throw;
        }
        finally
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync(quit: true, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Keeps one connection to the tenant's mailbox until cancelled or the mailbox is disconnected: takes new messages, then
    /// waits in IDLE (re-issued every IdleTimeout) when the server offers it, else for PollInterval. A failure is recorded
    /// in last_error and retried after PollInterval.
    /// </summary>
    public async Task WatchAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (await FindMailboxAsync(tenantId, cancellationToken) is not { } mailbox)
            {
                return;
            }

            using var client = new ImapClient();
            try
            {
                var inbox = await OpenAsync(client, mailbox, cancellationToken);
                while (!cancellationToken.IsCancellationRequested)
                {
                    await TakeNewAsync(client, inbox, mailbox, cancellationToken);
                    await WaitForMailAsync(client, inbox, tenantId, cancellationToken);
                    if (await FindMailboxAsync(tenantId, cancellationToken) is not { } current)
                    {
                        return;
                    }

                    if ((current.Host, current.Port, current.Tls, current.Username, current.SecretName, current.UpdatedAt) !=
                        (mailbox.Host, mailbox.Port, mailbox.Tls, mailbox.Username, mailbox.SecretName, mailbox.UpdatedAt))
                    {
                        break;
                    }

                    mailbox = current;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                await RecordErrorAsync(tenantId, e, cancellationToken);
                await Task.Delay(options.Value.PollInterval, time, cancellationToken);
            }
            finally
            {
                if (client.IsConnected)
                {
                    await client.DisconnectAsync(quit: true, CancellationToken.None);
                }
            }
        }
    }

    private async Task<IMailFolder> OpenAsync(ImapClient client, IntakeMailboxRow mailbox, CancellationToken cancellationToken)
    {
        var password = await PasswordOfAsync(mailbox, cancellationToken);
        await client.ConnectAsync(mailbox.Host, mailbox.Port, MailboxTls.ToSocketOptions(mailbox.Tls), cancellationToken);
        await client.AuthenticateAsync(mailbox.Username, password, cancellationToken);
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
        return client.Inbox;
    }

    /// <summary>The password as the admin typed it (sealed in the row), else the operator's secret.</summary>
    public async Task<string> PasswordOfAsync(IntakeMailboxRow mailbox, CancellationToken cancellationToken) =>
        mailbox.PasswordEncrypted is { } sealedPassword
            ? (await keys.DataAsync(cancellationToken)).Open(sealedPassword, MailboxConnections.PasswordLocation(mailbox.TenantId))!
            : await secrets.GetSecretAsync(mailbox.SecretName ?? SecretNames.IntakeMailboxPassword(mailbox.TenantId), cancellationToken);

    private async Task<MailboxPass> TakeNewAsync(ImapClient client, IMailFolder inbox, IntakeMailboxRow mailbox, CancellationToken cancellationToken)
    {
        // A new UIDVALIDITY means the server renumbered the inbox: the old last_uid says nothing any more, and whatever is
        // still in the inbox was not moved out, so it is all taken again (a message already received is a duplicate).
        var lastUid = mailbox.UidValidity == inbox.UidValidity ? mailbox.LastUid : 0;
        var uids = (await inbox.SearchAsync(SearchQuery.All, cancellationToken)).Where(uid => uid.Id > lastUid).OrderBy(uid => uid.Id).ToList();
        var sizes = uids.Count == 0
            ? new Dictionary<UniqueId, uint?>()
            : (await inbox.FetchAsync(uids, new FetchRequest(MessageSummaryItems.UniqueId | MessageSummaryItems.Size), cancellationToken))
                .ToDictionary(summary => summary.UniqueId, summary => summary.Size);
        IMailFolder? processedFolder = null;
        IMailFolder? failedFolder = null;
        int processed = 0, failed = 0;
        foreach (var uid in uids)
        {
            IMailFolder target;
            try
            {
                // The limit the SMTP listener announces holds here too; a larger message is not even downloaded.
                if (sizes.GetValueOrDefault(uid) is { } size && size > intakeOptions.Value.MaxMessageBytes)
                {
                    throw new InvalidDataException($"The message is {size} bytes, above Email:Intake:MaxMessageBytes ({intakeOptions.Value.MaxMessageBytes}).");
                }

                using var raw = new MemoryStream();
                await using (var stream = await inbox.GetStreamAsync(uid, cancellationToken))
                {
                    await stream.CopyToAsync(raw, cancellationToken);
                }

                var result = await intake.ReceiveAsync(mailbox.TenantId, raw.GetBuffer().AsMemory(0, (int)raw.Length), IntakeSource.Imap, cancellationToken);
                logger.LogInformation("Mailbox of tenant {TenantId}: message UID {Uid} became intake message {IntakeMessageId} ({Status})",
                    mailbox.TenantId, uid.Id, result.MessageId, result.Status);
                target = processedFolder ??= await FolderAsync(client, mailbox.ProcessedFolder, cancellationToken);
                processed++;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Mailbox of tenant {TenantId}: message UID {Uid} failed; moved to {Folder}",
                    mailbox.TenantId, uid.Id, mailbox.FailedFolder);
                target = failedFolder ??= await FolderAsync(client, mailbox.FailedFolder, cancellationToken);
                failed++;
            }

            await inbox.MoveToAsync(uid, target, cancellationToken);
            await AdvanceAsync(mailbox.TenantId, inbox.UidValidity, uid.Id, cancellationToken);
        }

        await AdvanceAsync(mailbox.TenantId, inbox.UidValidity, uids.Count > 0 ? uids[^1].Id : lastUid, cancellationToken);
        mailbox.UidValidity = inbox.UidValidity;
        mailbox.LastUid = uids.Count > 0 ? uids[^1].Id : lastUid;
        return new MailboxPass(processed, failed);
    }

    private async Task WaitForMailAsync(ImapClient client, IMailFolder inbox, Guid tenantId, CancellationToken cancellationToken)
    {
        // A change of the mailbox by its admin (new settings, disconnected) ends the wait too, so it applies at once.
        var changed = signals.ChangedToken(tenantId);
        if (!client.Capabilities.HasFlag(ImapCapabilities.Idle))
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, changed);
            try
            {
                await Task.Delay(options.Value.PollInterval, time, either.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            return;
        }

        using var timeout = new CancellationTokenSource(options.Value.IdleTimeout, time);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, changed);
        // Any change of the inbox's count ends the IDLE: new mail is taken at once rather than at the next re-issue.
        void OnCountChanged(object? sender, EventArgs e) => done.Cancel();
        inbox.CountChanged += OnCountChanged;
        try
        {
            await client.IdleAsync(done.Token, cancellationToken);
        }
        finally
        {
            inbox.CountChanged -= OnCountChanged;
        }
    }

    private static async Task<IMailFolder> FolderAsync(ImapClient client, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetFolderAsync(name, cancellationToken);
        }
        catch (FolderNotFoundException)
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            return await root.CreateAsync(name, isMessageFolder: true, cancellationToken)
                ?? throw new InvalidOperationException($"The IMAP server did not create the folder {name}.");
        }
    }

    private async Task AdvanceAsync(Guid tenantId, uint uidValidity, long lastUid, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        await unitOfWork.Db.GetTable<IntakeMailboxRow>()
            .Where(m => m.TenantId == tenantId)
            .Set(m => m.UidValidity, (long)uidValidity)
            .Set(m => m.LastUid, lastUid)
            .Set(m => m.LastPolledAt, time.GetUtcNow())
            .Set(m => m.LastError, (string?)null)
            .UpdateAsync(cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
    }

    private async Task RecordErrorAsync(Guid tenantId, Exception error, CancellationToken cancellationToken)
    {
        // The message only, which names the host or the failing command, never the password.
        logger.LogWarning("Mailbox of tenant {TenantId} could not be polled: {Error}", tenantId, error.Message);
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        await unitOfWork.Db.GetTable<IntakeMailboxRow>()
            .Where(m => m.TenantId == tenantId)
            .Set(m => m.LastError, error.Message.Length > 500 ? error.Message[..500] : error.Message)
            .Set(m => m.LastPolledAt, time.GetUtcNow())
            .UpdateAsync(cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
    }
}
