using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Invisible.Contracts.Intake.V1;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Intake;

/// <summary>The tenant's connected IMAP mailbox: admins read, set, test and disconnect it (<see cref="MailboxConnections"/>).</summary>
public sealed partial class IntakeServiceHandler
{
    private const int MaxPasswordLength = 1024;

    private MailboxConnections Mailboxes => services.GetRequiredService<MailboxConnections>();

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<Mailbox> GetMailbox(GetMailboxRequest request, ServerCallContext context) =>
        ToMailbox(await Mailboxes.GetAsync(context.Caller().TenantId, context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<Mailbox> SetMailbox(SetMailboxRequest request, ServerCallContext context)
    {
        var settings = ValidMailboxSettings(request.Settings, request.Password);
        var caller = context.Caller();
        try
        {
            return ToMailbox(await Mailboxes.SetAsync(
                caller.TenantId, settings, request.Password, caller.UserId.ToString(), context.RequestId(), context.CancellationToken));
        }
        catch (MailboxPasswordMissingException)
        {
            throw PasswordRequired();
        }
    }

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<TestMailboxResponse> TestMailbox(TestMailboxRequest request, ServerCallContext context)
    {
        var settings = ValidMailboxSettings(request.Settings, request.Password);
        try
        {
            var result = await Mailboxes.TestAsync(context.Caller().TenantId, settings, request.Password, context.CancellationToken);
            return new TestMailboxResponse { Ok = result.Ok, Answer = result.Answer };
        }
        catch (MailboxPasswordMissingException)
        {
            throw PasswordRequired();
        }
    }

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<Mailbox> DisconnectMailbox(DisconnectMailboxRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await Mailboxes.DisconnectAsync(caller.TenantId, caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
        return ToMailbox(null);
    }

    private static MailboxSettingsInput ValidMailboxSettings(MailboxSettings? settings, string password)
    {
        settings ??= new MailboxSettings();
        var violations = new List<FieldViolation>();
        var host = settings.Host.Trim();
        if (host.Length is 0 or > 253 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@'))
        {
            violations.Add(new FieldViolation("settings.host", "must be a host name or address such as imap.example.com"));
        }

        if (settings.Port is < 1 or > 65535)
        {
            violations.Add(new FieldViolation("settings.port", "must be between 1 and 65535 (993 for implicit TLS, 143 for starttls)"));
        }

        if (!MailboxTls.All.Contains(settings.Tls))
        {
            violations.Add(new FieldViolation("settings.tls", $"must be one of {string.Join(", ", MailboxTls.All)}"));
        }

        if (settings.Username.Trim().Length is 0 or > 320)
        {
            violations.Add(new FieldViolation("settings.username", "must be the mailbox's user name (at most 320 characters)"));
        }

        var processed = FolderOrDefault(settings.ProcessedFolder, "Processed", "settings.processed_folder", violations);
        var failed = FolderOrDefault(settings.FailedFolder, "Failed", "settings.failed_folder", violations);
        if (processed.Equals(failed, StringComparison.OrdinalIgnoreCase) || processed.Equals("INBOX", StringComparison.OrdinalIgnoreCase))
        {
            violations.Add(new FieldViolation("settings.processed_folder", "must differ from the failed folder and from INBOX"));
        }

        if (password.Length > MaxPasswordLength)
        {
            violations.Add(new FieldViolation("password", $"must be at most {MaxPasswordLength} characters"));
        }

        return violations.Count > 0
            ? throw DomainException.InvalidArgument("The mailbox settings are not valid.", violations)
            : new MailboxSettingsInput(host, settings.Port, settings.Tls, settings.Username.Trim(), processed, failed);
    }

    private static string FolderOrDefault(string folder, string fallback, string field, List<FieldViolation> violations)
    {
        var name = folder.Trim();
        if (name.Length == 0)
        {
            return fallback;
        }

        if (name.Length > 200 || name.Any(char.IsControl))
        {
            violations.Add(new FieldViolation(field, "must be a folder name of at most 200 characters"));
        }

        return name;
    }

    private static DomainException PasswordRequired() =>
        DomainException.InvalidArgument("The mailbox needs a password.", new FieldViolation("password", "is required when no password is stored yet"));

    private static Mailbox ToMailbox(MailboxView? view)
    {
        if (view is null)
        {
            return new Mailbox { Connected = false };
        }

        var row = view.Row;
        return new Mailbox
        {
            Connected = true,
            Settings = new MailboxSettings
            {
                Host = row.Host,
                Port = row.Port,
                Tls = row.Tls,
                Username = row.Username,
                ProcessedFolder = row.ProcessedFolder,
                FailedFolder = row.FailedFolder,
            },
            PasswordStored = row.PasswordEncrypted is not null || row.SecretName is not null,
            LastPolledAt = row.LastPolledAt is { } polled ? Timestamp.FromDateTimeOffset(polled) : null,
            LastError = row.LastError ?? string.Empty,
            MessagesProcessed = view.MessagesProcessed,
            UpdatedBy = row.UpdatedBy,
            UpdatedAt = Timestamp.FromDateTimeOffset(row.UpdatedAt),
        };
    }
}
