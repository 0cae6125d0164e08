using System.Threading.Channels;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Passwords;
using Invisible.Identity.Tokens;
using Invisible.Platform.Email;
using Invisible.Server.FieldEncryption;
using Invisible.Server.Hosting;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Accounts;

/// <summary>A "Forgot password?" request as accepted: looked up and answered by e-mail later, by <see cref="PasswordResetMailer"/>.</summary>
public sealed record PasswordResetRequest(string Email, string? TenantSlug, string Address, string? RequestId);

/// <summary>
/// Account recovery: "Forgot password?" and the one-time link it e-mails. The request is only counted and queued while the
/// caller waits, so neither the answer nor its time depends on whether the address has an account; the look-up, the link
/// and the e-mail happen after the answer (<see cref="PasswordResetMailer"/>).
/// </summary>
public sealed class PasswordRecovery(
    CrossTenantLookup lookup,
    TenantDatabase database,
    PasswordResetRequestLimits limits,
    PasswordResetQueue queue,
    PersonalDataKeys personalDataKeys,
    TimeProvider time,
    ILogger<PasswordRecovery> logger)
{
    public async Task RequestAsync(string email, string? tenantSlug, string address, string? requestId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@', StringComparison.Ordinal))
        {
            throw Errors.DomainException.InvalidArgument("Enter the e-mail address you sign in with.", new Errors.FieldViolation("email", "must be an e-mail address"));
        }

        var emailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(email)!;
        if (limits.TryCount(emailIndex, address) is { } retryAfter)
        {
            logger.LogWarning("Password reset request refused: too many for the address or from the network of {Address}", address);
            throw AuthErrors.TooManyAttempts(retryAfter);
        }

        if (!queue.TryEnqueue(new PasswordResetRequest(email.Trim(), string.IsNullOrWhiteSpace(tenantSlug) ? null : tenantSlug.Trim(), address, requestId)))
        {
            // The answer stays the same: saying "try later" only when the queue is full would say nothing about accounts, but
            // a person whose e-mail does not come simply asks again.
            logger.LogError("Password reset request dropped: the queue of pending requests is full");
        }
    }

    /// <summary>Sets the password from a link's token; the link is spent, every session of the user ends.</summary>
    public async Task ResetAsync(string token, string newPassword, string address, string? requestId, CancellationToken cancellationToken)
    {
        var found = await lookup.FindPasswordResetAsync(OpaqueTokens.Hash(token ?? string.Empty), cancellationToken) ?? throw AuthErrors.PasswordResetInvalid();
        await using var unitOfWork = await database.BeginAsync(found.TenantId, cancellationToken);
        // SQL: a row lock ('for update'), so two uses of one link at once cannot both set a password.
        var reset = (await unitOfWork.Db.QueryToListAsync<LockedReset>(
            "select id as Id, user_id as UserId, expires_at as ExpiresAt, used_at as UsedAt from password_resets where id = @id for update",
            new { id = found.Id }, cancellationToken)).Single();
        if (reset.UsedAt is not null)
        {
            throw AuthErrors.PasswordResetUsed();
        }

        if (reset.ExpiresAt <= time.GetUtcNow())
        {
            throw AuthErrors.PasswordResetExpired();
        }

        var user = await UserAccounts.FindForUpdateAsync(unitOfWork, reset.UserId, cancellationToken);
        if (user is null || user.Disabled)
        {
            throw AuthErrors.PasswordResetInvalid();
        }

        if (PasswordPolicy.Check(newPassword, user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken))) is { Count: > 0 } problems)
        {
            // The link stays usable: the person only has to choose a better password.
            throw AuthErrors.WeakPassword(problems);
        }

        await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.Id)
            .Set(row => row.PasswordHash, PasswordHashing.Hash(newPassword)).UpdateAsync(cancellationToken);
        // Every link of the user is spent, not only this one: an older e-mail must not set the password again.
        await unitOfWork.Db.GetTable<PasswordResetRow>().Where(row => row.UserId == user.Id && row.UsedAt == null)
            .Set(row => row.UsedAt, time.GetUtcNow()).UpdateAsync(cancellationToken);
        await UserAccounts.RotateSecurityStampAsync(unitOfWork, user.Id, cancellationToken);
        var ended = await Sessions.EndAllAsync(unitOfWork, user.Id, keep: null, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, $"user:{user.Id}", "password.reset.completed", "user", user.Id.ToString(), null,
            new { address, sessionsEnded = ended, passwordResetId = reset.Id }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
    }
}

internal sealed record LockedReset(Guid Id, Guid UserId, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt);

/// <summary>The requests accepted and not yet looked up; bounded, so a flood cannot grow memory.</summary>
public sealed class PasswordResetQueue
{
    private readonly Channel<PasswordResetRequest> _requests =
        Channel.CreateBounded<PasswordResetRequest>(new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public bool TryEnqueue(PasswordResetRequest request) => _requests.Writer.TryWrite(request);

    public ChannelReader<PasswordResetRequest> Reader => _requests.Reader;
}

/// <summary>
/// Answers the queued "Forgot password?" requests: for each enabled account of the address (in the tenant, when one was
/// named) a new one-time link (only its hash stored), an audit entry in that tenant, and an e-mail through the product's
/// sender. An address without an account gets nothing, and the log does not say which it was.
/// </summary>
public sealed class PasswordResetMailer(
    PasswordResetQueue queue,
    CrossTenantLookup lookup,
    TenantDirectory tenants,
    TenantDatabase database,
    PersonalDataKeys personalDataKeys,
    IEmailSender sender,
    PublicLinks links,
    IOptions<AccountsOptions> options,
    TimeProvider time,
    ILogger<PasswordResetMailer> logger) : BackgroundService
{
    /// <summary>The SPA's page that reads the token from its query.</summary>
    public const string ResetRoute = "reset-password";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var request in queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await AnswerAsync(request, stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(exception, "A password reset request (request {RequestId}) could not be answered", request.RequestId);
            }
        }
    }

    public async Task AnswerAsync(PasswordResetRequest request, CancellationToken cancellationToken)
    {
        var emailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(request.Email)!;
        var accounts = await lookup.FindUsersByEmailIndexAsync(emailIndex, cancellationToken);
        if (request.TenantSlug is { } slug)
        {
            var tenant = await tenants.FindBySlugAsync(slug, cancellationToken);
            accounts = accounts.Where(account => account.TenantId == tenant?.Id).ToList();
        }

        foreach (var account in accounts)
        {
            var (recipient, organisation, link) = await CreateLinkAsync(account, request, cancellationToken);
            await sender.SendAsync(Message(recipient, organisation, link), cancellationToken);
        }
    }

    private async Task<(string Email, string Organisation, Uri Link)> CreateLinkAsync(TenantScopedId account, PasswordResetRequest request, CancellationToken cancellationToken)
    {
        var token = OpaqueTokens.New();
        var resetId = Guid.NewGuid();
        await using var unitOfWork = await database.BeginAsync(account.TenantId, cancellationToken);
        var user = await UserAccounts.FindForUpdateAsync(unitOfWork, account.Id, cancellationToken)
            ?? throw new InvalidOperationException($"User {account.Id} vanished between the look-up and the reset link.");
        var organisation = await unitOfWork.Db.GetTable<ResetTenantRow>().Where(row => row.Id == account.TenantId).Select(row => row.DisplayName).SingleAsync(cancellationToken);
        // Both ends of the link's life from the same clock, so its lifetime reads true whatever the database's clock says.
        var createdAt = time.GetUtcNow();
        var expiresAt = createdAt + options.Value.PasswordResetLifetime;
        await unitOfWork.Db.InsertAsync(new PasswordResetRow
        {
            Id = resetId, TenantId = account.TenantId, UserId = account.Id, TokenHash = OpaqueTokens.Hash(token), CreatedAt = createdAt, ExpiresAt = expiresAt,
        }, token: cancellationToken);
        // In the tenant's own trail, which only its administrators and auditors read; the requester learns nothing from it.
        await AuditLog.AppendAsync(unitOfWork, "anonymous", "password.reset.requested", "user", account.Id.ToString(), null,
            new { address = request.Address, passwordResetId = resetId, expiresAt }, request.RequestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        var email = user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken));
        return (email, organisation, links.To(ResetRoute, new Dictionary<string, string> { ["token"] = token }));
    }

    private EmailMessage Message(string recipient, string organisation, Uri link)
    {
        var lifetime = options.Value.PasswordResetLifetime;
        // Seconds only when set that short (end-to-end tests); people get 30 minutes.
        var minutes = lifetime >= TimeSpan.FromMinutes(1)
            ? $"{(int)Math.Round(lifetime.TotalMinutes)} minute{(Math.Round(lifetime.TotalMinutes) == 1 ? "" : "s")}"
            : $"{(int)Math.Round(lifetime.TotalSeconds)} seconds";
        var text =
            $"""
            Someone (we hope you) asked to set a new password for your Invisible account at {organisation}.

            Set a new password here (the link works once, for {minutes}):
            {link.AbsoluteUri}

            After the new password, signing in still asks for your second factor, and every device signed in to your account is signed out.

            If you did not ask for this, ignore this message: your password stays as it is.
            """;
        var html =
            $"""
            <p>Someone (we hope you) asked to set a new password for your Invisible account at {System.Net.WebUtility.HtmlEncode(organisation)}.</p>
            <p><a href="{System.Net.WebUtility.HtmlEncode(link.AbsoluteUri)}">Set a new password</a> (the link works once, for {minutes}).</p>
            <p>After the new password, signing in still asks for your second factor, and every device signed in to your account is signed out.</p>
            <p>If you did not ask for this, ignore this message: your password stays as it is.</p>
            """;
        return new EmailMessage([new EmailAddress(recipient)], "Set a new password for Invisible", text, html);
    }

    [Table("tenants")]
    private sealed class ResetTenantRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }
        [Column("display_name")] public string DisplayName { get; set; } = "";
    }
}

/// <summary>A one-time link of "Forgot password?" (table <c>password_resets</c>, migration 0032); only the token's hash is stored.</summary>
[Table("password_resets")]
internal sealed class PasswordResetRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }
    [Column("tenant_id")] public Guid TenantId { get; set; }
    [Column("user_id")] public Guid UserId { get; set; }
    [Column("token_hash")] public byte[] TokenHash { get; set; } = [];
    [Column("created_at")] public DateTimeOffset CreatedAt { get; set; }
    [Column("expires_at")] public DateTimeOffset ExpiresAt { get; set; }
    [Column("used_at", SkipOnInsert = true)] public DateTimeOffset? UsedAt { get; set; }
}
