using System.Text;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;
using LinqToDB;
using LinqToDB.Async;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;

namespace Invisible.Server.Intake;

/// <summary>Where and as whom the product signs in to a tenant's mailbox (the columns of intake_mailboxes an admin sets).</summary>
public sealed record MailboxSettingsInput(string Host, int Port, string Tls, string Username, string ProcessedFolder, string FailedFolder);

/// <summary>The connected mailbox as its admin sees it: never the password, only whether one is stored.</summary>
public sealed record MailboxView(IntakeMailboxRow Row, long MessagesProcessed);

/// <summary>What signing in to a mailbox for a test gave: ok, and the server's own words (or the reason it failed).</summary>
public sealed record MailboxTestResult(bool Ok, string Answer);

/// <summary>Thrown when a mailbox is set without a password and none is stored yet.</summary>
public sealed class MailboxPasswordMissingException() : Exception("The mailbox has no password stored yet.");

/// <summary>
/// An admin connects, changes, tests and disconnects the tenant's IMAP mailbox. The password is sealed with the field
/// encryption key ring (<see cref="PersonalDataKeys"/>), bound to the tenant and the column, because neither secret store
/// of the product (a file, a Dapr component) is writable by it; it is never returned, logged or audited. Every change is
/// audited and signals this process's polling (<see cref="MailboxSignals"/>).
/// </summary>
public sealed class MailboxConnections(
    TenantDatabase tenants,
    PersonalDataKeys keys,
    MailboxPoller poller,
    MailboxSignals signals,
    TimeProvider time,
    ILogger<MailboxConnections> logger)
{
    public const string PasswordField = "intake_mailboxes.password";

    // Long enough for a slow TLS handshake, short enough for a person waiting on the Test button.
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(15);

    public static PersonalDataLocation PasswordLocation(Guid tenantId) => new(tenantId, PasswordField, tenantId);

    public async Task<MailboxView?> GetAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var row = await unitOfWork.Db.GetTable<IntakeMailboxRow>().FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        var processed = await unitOfWork.Db.GetTable<IntakeMessageRow>().LongCountAsync(m => m.Source == "imap", cancellationToken);
        return new MailboxView(row, processed);
    }

    /// <summary>Connects or changes the mailbox; an empty password keeps the stored one.</summary>
    /// <exception cref="MailboxPasswordMissingException">No password given and none stored.</exception>
    public async Task<MailboxView> SetAsync(
        Guid tenantId, MailboxSettingsInput settings, string? password, string actor, string? requestId, CancellationToken cancellationToken)
    {
        var sealedPassword = string.IsNullOrEmpty(password) ? null : (await keys.DataAsync(cancellationToken)).Seal(password, PasswordLocation(tenantId));
        await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
        {
            var before = await unitOfWork.Db.GetTable<IntakeMailboxRow>().FirstOrDefaultAsync(cancellationToken);
            if (sealedPassword is null && before is null)
            {
                throw new MailboxPasswordMissingException();
            }

            var changed = before ?? new IntakeMailboxRow { TenantId = tenantId };
            var serverChanged = before is not null && (before.Host, before.Port, before.Username) != (settings.Host, settings.Port, settings.Username);
            changed.Host = settings.Host;
            changed.Port = settings.Port;
            changed.Tls = settings.Tls;
            changed.Username = settings.Username;
            changed.ProcessedFolder = settings.ProcessedFolder;
            changed.FailedFolder = settings.FailedFolder;
            if (sealedPassword is not null)
            {
                changed.PasswordEncrypted = sealedPassword;
                changed.SecretName = null;
            }

            if (serverChanged)
            {
                // Another mailbox: its UIDs say nothing about the old one's, so polling starts from its inbox as it is.
                changed.UidValidity = null;
                changed.LastUid = 0;
            }

            changed.LastError = null;
            changed.UpdatedBy = actor;
            changed.UpdatedAt = time.GetUtcNow();
            if (before is null)
            {
                await unitOfWork.Db.InsertAsync(changed, token: cancellationToken);
            }
            else
            {
                await unitOfWork.Db.UpdateAsync(changed, token: cancellationToken);
            }

            await AuditLog.AppendAsync(unitOfWork, actor, before is null ? "intake.mailbox.connected" : "intake.mailbox.changed", "intake_mailbox",
                tenantId.ToString(), before is null ? null : Audited(before, passwordChanged: false), Audited(changed, sealedPassword is not null),
                requestId, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }

        signals.Changed(tenantId);
        return (await GetAsync(tenantId, cancellationToken))!;
    }

    /// <summary>Forgets the mailbox and its password; false when none was connected.</summary>
    public async Task<bool> DisconnectAsync(Guid tenantId, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
        {
            var before = await unitOfWork.Db.GetTable<IntakeMailboxRow>().FirstOrDefaultAsync(cancellationToken);
            if (before is null)
            {
                return false;
            }

            await unitOfWork.Db.GetTable<IntakeMailboxRow>().Where(m => m.TenantId == tenantId).DeleteAsync(cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, actor, "intake.mailbox.disconnected", "intake_mailbox", tenantId.ToString(),
                Audited(before, passwordChanged: false), null, requestId, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }

        signals.Changed(tenantId);
        return true;
    }

    /// <summary>
    /// Signs in and opens the INBOX read-only, taking nothing; an empty password tests the stored one. Failures are the
    /// answer, not exceptions: the server's last words (which never echo the password) or the connection error.
    /// </summary>
    /// <exception cref="MailboxPasswordMissingException">No password given and none stored.</exception>
    public async Task<MailboxTestResult> TestAsync(Guid tenantId, MailboxSettingsInput settings, string? password, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(password))
        {
            var stored = await poller.FindMailboxAsync(tenantId, cancellationToken) ?? throw new MailboxPasswordMissingException();
            password = await poller.PasswordOfAsync(stored, cancellationToken);
        }

        var serverWords = new ServerWords();
        using var client = new ImapClient(serverWords);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TestTimeout);
        try
        {
            await client.ConnectAsync(settings.Host, settings.Port, MailboxTls.ToSocketOptions(settings.Tls), deadline.Token);
            var greeting = serverWords.Last;
            await client.AuthenticateAsync(settings.Username, password, deadline.Token);
            await client.Inbox.OpenAsync(FolderAccess.ReadOnly, deadline.Token);
            var answer = $"Signed in to {settings.Host}:{settings.Port} as {settings.Username}; INBOX holds {client.Inbox.Count} message(s). Server: {greeting}";
            await client.DisconnectAsync(quit: true, CancellationToken.None);
            return new MailboxTestResult(true, answer);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new MailboxTestResult(false, $"No answer from {settings.Host}:{settings.Port} within {TestTimeout.TotalSeconds:0} seconds.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var said = serverWords.Last is { Length: > 0 } last ? $" The server said: {last}" : string.Empty;
            // The message names the host or the failing step, never the password.
            logger.LogInformation("Testing the mailbox of tenant {TenantId} on {Host}:{Port} failed: {Error}", tenantId, settings.Host, settings.Port, e.Message);
            return new MailboxTestResult(false, $"{Describe(e)}{said}");
        }
    }

    private static string Describe(Exception e) => e switch
    {
        AuthenticationException => "The server refused the user name or password.",
        SslHandshakeException => "The TLS handshake failed (wrong TLS mode for this port, or a certificate this server does not trust).",
        System.Net.Sockets.SocketException socket => $"Could not connect: {socket.Message}",
        _ => e.Message,
    };

    private static object Audited(IntakeMailboxRow row, bool passwordChanged) => new
    {
        host = row.Host,
        port = row.Port,
        tls = row.Tls,
        username = row.Username,
        processed_folder = row.ProcessedFolder,
        failed_folder = row.FailedFolder,
        password_changed = passwordChanged,
    };

    /// <summary>Keeps the server's last line (greeting, or its answer to the last command); the client's lines, with the password, are never kept.</summary>
    private sealed class ServerWords : IProtocolLogger
    {
        public string Last { get; private set; } = "";

        public IAuthenticationSecretDetector? AuthenticationSecretDetector { get; set; }

        public void LogConnect(Uri uri)
        {
        }

        public void LogClient(byte[] buffer, int offset, int count)
        {
        }

        public void LogServer(byte[] buffer, int offset, int count)
        {
            var lines = Encoding.UTF8.GetString(buffer, offset, count).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length > 0)
            {
                var line = lines[^1];
                Last = line.Length > 300 ? line[..300] : line;
            }
        }

        public void Dispose()
        {
        }
    }
}
