using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Invisible.Identity.Encryption;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity;
using Invisible.Identity.Tokens;
using Microsoft.Extensions.Options;
using Invisible.Server.Errors;
using Invisible.Server.Exceptions;
using Invisible.Server.FieldEncryption;

namespace Invisible.Server.Accounts;

public sealed record UserSummary(Guid Id, string Email, string DisplayName, string Role, bool MfaEnrolled, bool Disabled, DateTime? LastSignInAt);

public sealed record InvitationSummary(Guid Id, string Email, string Role, DateTime ExpiresAt, bool Accepted, bool Revoked);

/// <summary>A user or invitation row as stored: the address sealed (issue #20), opened for the administrator who lists it.</summary>
internal sealed record SealedUserSummary(Guid Id, byte[] EmailEncrypted, string DisplayName, string Role, bool MfaEnrolled, bool Disabled, DateTime? LastSignInAt)
{
    public UserSummary Open(Identity.Encryption.PersonalData data, Guid tenantId) =>
        new(Id, data.Open(EmailEncrypted, PersonalDataFields.OfUser(tenantId, Id))!, DisplayName, Role, MfaEnrolled, Disabled, LastSignInAt);
}

internal sealed record SealedInvitationSummary(Guid Id, byte[] EmailEncrypted, string Role, DateTime ExpiresAt, bool Accepted, bool Revoked)
{
    public InvitationSummary Open(Identity.Encryption.PersonalData data, Guid tenantId) =>
        new(Id, data.Open(EmailEncrypted, PersonalDataFields.OfInvitation(tenantId, Id))!, Role, ExpiresAt, Accepted, Revoked);
}

public sealed record ApiKeySummary(
    Guid Id, string Name, string Role, string KeyPrefix, DateTime CreatedAt, DateTime? ExpiresAt, bool Revoked, DateTime? LastUsedAt);

/// <summary>
/// An administrator's view of their own tenant: every query runs in the caller's tenant unit of work, so another tenant's
/// identifiers simply find nothing (NOT_FOUND).
/// </summary>
public sealed class TenantAdministration(
    TenantDatabase database, IOptions<AccountsOptions> options, TimeProvider time, PersonalDataKeys personalDataKeys)
{
    private const string UserColumns =
        "id as Id, email_encrypted as EmailEncrypted, display_name as DisplayName, role as Role, mfa_enabled_at is not null as MfaEnrolled, disabled_at is not null as Disabled, last_sign_in_at as LastSignInAt";

    private const string InvitationColumns =
        "id as Id, email_encrypted as EmailEncrypted, role as Role, expires_at as ExpiresAt, accepted_at is not null as Accepted, revoked_at is not null as Revoked";

    private const string ApiKeyColumns =
        "id as Id, name as Name, role as Role, key_prefix as KeyPrefix, created_at as CreatedAt, expires_at as ExpiresAt, revoked_at is not null as Revoked, last_used_at as LastUsedAt";

    /// <summary>The tenant's users by e-mail address (sorted here: the database only has the sealed addresses).</summary>
    public async Task<IReadOnlyList<UserSummary>> ListUsersAsync(Caller caller, CancellationToken cancellationToken)
    {
        var data = await personalDataKeys.DataAsync(cancellationToken);
        return (await QueryAsync<SealedUserSummary>(caller, $"select {UserColumns} from users", cancellationToken))
            .Select(user => user.Open(data, caller.TenantId))
            .OrderBy(user => user.Email, StringComparer.OrdinalIgnoreCase).ThenBy(user => user.Id)
            .ToList();
    }

    /// <summary>Changes the role; the user's sessions end so that no token keeps the old role. The last enabled administrator stays one.</summary>
    public async Task<UserSummary> SetUserRoleAsync(Caller caller, Guid userId, string role, string? requestId, CancellationToken cancellationToken)
    {
        RequireKnownRole(role);
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        await LockAdministratorsAsync(unitOfWork, cancellationToken);
        var before = await FindUserAsync(unitOfWork, userId, cancellationToken);
        if (role != Roles.Admin)
        {
            await RequireAnotherEnabledAdministratorAsync(unitOfWork, before, cancellationToken);
        }

        // SQL: update ... returning the summary columns in one statement.
        var after = (await unitOfWork.Db.QueryToListAsync<SealedUserSummary>(
            $"update users set role = @role, updated_at = now() where id = @userId returning {UserColumns}", new { userId, role }, cancellationToken)).Single()
            .Open(await personalDataKeys.DataAsync(cancellationToken), caller.TenantId);
        await EndSessionsAsync(unitOfWork, userId, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "user.role_changed", "user", userId.ToString(),
            new { role = before.Role }, new { role }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return after;
    }

    /// <summary>Disables the user and ends their sessions; the last enabled administrator cannot be disabled.</summary>
    public async Task<UserSummary> DisableUserAsync(Caller caller, Guid userId, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        await LockAdministratorsAsync(unitOfWork, cancellationToken);
        var before = await FindUserAsync(unitOfWork, userId, cancellationToken);
        await RequireAnotherEnabledAdministratorAsync(unitOfWork, before, cancellationToken);
        // SQL: update ... returning, with coalesce so a second disable keeps the first time.
        var after = (await unitOfWork.Db.QueryToListAsync<SealedUserSummary>(
            $"update users set disabled_at = coalesce(disabled_at, now()), updated_at = now() where id = @userId returning {UserColumns}", new { userId }, cancellationToken)).Single()
            .Open(await personalDataKeys.DataAsync(cancellationToken), caller.TenantId);
        await EndSessionsAsync(unitOfWork, userId, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "user.disabled", "user", userId.ToString(), null, null, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return after;
    }

    /// <summary>Records an invitation and returns it with the token for the one-time link (stored only hashed).</summary>
    public async Task<(InvitationSummary Invitation, string Token)> InviteAsync(
        Caller caller, string email, string role, string? requestId, CancellationToken cancellationToken)
    {
        RequireKnownRole(role);
        if (string.IsNullOrWhiteSpace(email) || email.IndexOf('@', StringComparison.Ordinal) < 1)
        {
            throw DomainException.InvalidArgument("Enter the e-mail address to invite.", new FieldViolation("email", "must be an e-mail address"));
        }

        var token = OpaqueTokens.New();
        var data = await personalDataKeys.DataAsync(cancellationToken);
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        // The id is chosen here: the sealed address is bound to it before the row exists.
        var invitationId = Guid.NewGuid();
        await unitOfWork.Db.InsertAsync(new InvitationRow
        {
            Id = invitationId, TenantId = caller.TenantId, Role = role, TokenHash = OpaqueTokens.Hash(token),
            EmailEncrypted = data.Seal(email.Trim(), PersonalDataFields.OfInvitation(caller.TenantId, invitationId))!,
            InvitedBy = caller.Kind == CallerKind.User ? caller.UserId : null,
            ExpiresAt = time.GetUtcNow() + options.Value.InvitationLifetime,
        }, token: cancellationToken);
        // SQL: read back through InvitationColumns, the same computed summary the list and revoke return.
        var invitation = (await unitOfWork.Db.QueryToListAsync<SealedInvitationSummary>(
            $"select {InvitationColumns} from invitations where id = @invitationId", new { invitationId }, cancellationToken)).Single().Open(data, caller.TenantId);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "invitation.created", "invitation", invitation.Id.ToString(), null,
            new { email = invitation.Email, role }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return (invitation, token);
    }

    public async Task<IReadOnlyList<InvitationSummary>> ListInvitationsAsync(Caller caller, CancellationToken cancellationToken)
    {
        var data = await personalDataKeys.DataAsync(cancellationToken);
        return (await QueryAsync<SealedInvitationSummary>(caller, $"select {InvitationColumns} from invitations order by created_at desc", cancellationToken))
            .Select(invitation => invitation.Open(data, caller.TenantId)).ToList();
    }

    public async Task<InvitationSummary> RevokeInvitationAsync(Caller caller, Guid invitationId, string? requestId, CancellationToken cancellationToken) =>
        (await RevokeAsync<SealedInvitationSummary>(caller, "invitations", InvitationColumns, "invitation", invitationId, requestId, cancellationToken))
            .Open(await personalDataKeys.DataAsync(cancellationToken), caller.TenantId);

    /// <summary>A service account key for this tenant and one role; returned once, stored as its SHA-256.</summary>
    public async Task<(ApiKeySummary ApiKey, string Key)> CreateApiKeyAsync(
        Caller caller, string name, string role, DateTimeOffset? expiresAt, string? requestId, CancellationToken cancellationToken)
    {
        RequireKnownRole(role);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw DomainException.InvalidArgument("Name the key after what uses it.", new FieldViolation("name", "must not be empty"));
        }

        var key = ApiKeys.New();
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        // SQL: insert ... returning the summary columns in one statement.
        var apiKey = (await unitOfWork.Db.QueryToListAsync<ApiKeySummary>(
            $"""
            insert into api_keys (tenant_id, name, key_prefix, key_hash, role, created_by, expires_at)
            values (@tenantId, @name, @prefix, @hash, @role, @createdBy, @expiresAt)
            returning {ApiKeyColumns}
            """, new
            {
                tenantId = caller.TenantId, name = name.Trim(), prefix = ApiKeys.ShownPrefix(key), hash = OpaqueTokens.Hash(key), role,
                createdBy = caller.Kind == CallerKind.User ? caller.UserId : (Guid?)null, expiresAt,
            }, cancellationToken)).Single();
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "api_key.created", "api_key", apiKey.Id.ToString(), null,
            new { apiKey.Name, role, apiKey.KeyPrefix, expiresAt }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return (apiKey, key);
    }

    public Task<IReadOnlyList<ApiKeySummary>> ListApiKeysAsync(Caller caller, CancellationToken cancellationToken) =>
        QueryAsync<ApiKeySummary>(caller, $"select {ApiKeyColumns} from api_keys order by created_at desc", cancellationToken);

    public Task<ApiKeySummary> RevokeApiKeyAsync(Caller caller, Guid apiKeyId, string? requestId, CancellationToken cancellationToken) =>
        RevokeAsync<ApiKeySummary>(caller, "api_keys", ApiKeyColumns, "api_key", apiKeyId, requestId, cancellationToken);

    public async Task<bool> GetMfaRequiredAsync(Caller caller, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        return await UserAccounts.TenantRequiresMfaAsync(unitOfWork, cancellationToken);
    }

    public async Task<bool> SetMfaRequiredAsync(Caller caller, bool required, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        var before = await UserAccounts.TenantRequiresMfaAsync(unitOfWork, cancellationToken);
        await unitOfWork.Db.GetTable<TenantMfaRow>().Where(row => row.Id == caller.TenantId)
            .Set(row => row.MfaRequired, required).UpdateAsync(cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "tenant.mfa_policy_changed", "tenant", caller.TenantId.ToString(),
            new { mfaRequired = before }, new { mfaRequired = required }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return required;
    }

    public async Task<bool> GetFourEyesAsync(Caller caller, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        return await SegregationOfDuties.FourEyesAsync(unitOfWork, cancellationToken);
    }

    public async Task<bool> SetFourEyesAsync(Caller caller, bool fourEyes, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        await SegregationOfDuties.SetFourEyesAsync(unitOfWork, caller, fourEyes, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return fourEyes;
    }

    private static void RequireKnownRole(string role)
    {
        if (!Roles.IsKnown(role))
        {
            throw DomainException.InvalidArgument("Unknown role.", new FieldViolation("role", $"must be one of {string.Join(", ", Roles.All)}"));
        }
    }

    /// <summary>
    /// Serialises changes to who administers the tenant, taken before any user row is locked: two administrators demoting or
    /// disabling each other at once would otherwise each see the other still enabled, and the tenant would be left with none.
    /// </summary>
    private static async Task LockAdministratorsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        // SQL: pg_advisory_xact_lock, which linq2db has no API for.
        await unitOfWork.Db.ExecuteAsync(
            "select pg_advisory_xact_lock(hashtextextended('invisible.tenant_administrators:' || @tenantId::text, 0))", new { tenantId = unitOfWork.TenantId }, cancellationToken);

    /// <summary>FAILED_PRECONDITION <c>LAST_ADMIN</c> when <paramref name="user"/> is the tenant's only enabled administrator.</summary>
    private static async Task RequireAnotherEnabledAdministratorAsync(TenantUnitOfWork unitOfWork, SealedUserSummary user, CancellationToken cancellationToken)
    {
        if (user.Role != Roles.Admin || user.Disabled)
        {
            return;
        }

        var others = await unitOfWork.Db.GetTable<UserRow>()
            .CountAsync(row => row.Role == Roles.Admin && row.DisabledAt == null && row.Id != user.Id, cancellationToken);
        if (others == 0)
        {
            throw AuthErrors.LastAdmin();
        }
    }

    private static async Task<SealedUserSummary> FindUserAsync(TenantUnitOfWork unitOfWork, Guid userId, CancellationToken cancellationToken) =>
        // SQL: a row lock ('for update') while the user is changed.
        (await unitOfWork.Db.QueryToListAsync<SealedUserSummary>(
            $"select {UserColumns} from users where id = @userId for update", new { userId }, cancellationToken)).SingleOrDefault()
        ?? throw AuthErrors.NotFound("user");

    private static async Task EndSessionsAsync(TenantUnitOfWork unitOfWork, Guid userId, CancellationToken cancellationToken)
    {
        await Sessions.EndAllAsync(unitOfWork, userId, keep: null, cancellationToken);
        await UserAccounts.RotateSecurityStampAsync(unitOfWork, userId, cancellationToken);
    }

    private async Task<IReadOnlyList<T>> QueryAsync<T>(Caller caller, string sql, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        // SQL: the caller passes the list statement of its table (users, invitations, API keys).
        return (await unitOfWork.Db.QueryToListAsync<T>(sql, cancellationToken)).ToList();
    }

    private async Task<T> RevokeAsync<T>(
        Caller caller, string table, string columns, string entity, Guid id, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        // SQL: the table is a parameter of this helper; update ... returning with coalesce keeps the first revocation.
        var revoked = (await unitOfWork.Db.QueryToListAsync<T>(
            $"update {table} set revoked_at = coalesce(revoked_at, now()) where id = @id returning {columns}", new { id }, cancellationToken)).SingleOrDefault() ?? throw AuthErrors.NotFound(entity.Replace('_', ' '));
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, $"{entity}.revoked", entity, id.ToString(), null, null, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return revoked;
    }

    [Table("tenants")]
    private sealed class TenantMfaRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }
        [Column("mfa_required")] public bool MfaRequired { get; set; }
    }
}
