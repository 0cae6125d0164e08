using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Identity.Tokens;

namespace Invisible.Server.Accounts;

/// <summary>A user row as sign-in and MFA need it.</summary>
public sealed record UserAccount
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    /// <summary>The e-mail address as stored: sealed (issue #20); see <see cref="EmailAddress"/>.</summary>
    public byte[] EmailEncrypted { get; init; } = [];

    /// <summary>The blind index of the e-mail address (the sign-in throttle's account key, never the address).</summary>
    public byte[] EmailIndex { get; init; } = [];

    public string Role { get; init; } = "";

    public string? PasswordHash { get; init; }

    public Guid SecurityStamp { get; init; }

    public byte[]? MfaSecret { get; init; }

    public bool MfaEnrolled { get; init; }

    public long? MfaLastStep { get; init; }

    public string? MfaSecretKeyId { get; init; }

    public byte[]? MfaPendingSecret { get; init; }

    public string? MfaPendingSecretKeyId { get; init; }

    /// <summary>The active TOTP secret as stored (sealed), null when not enrolled.</summary>
    public StoredMfaSecret? SealedMfaSecret => MfaSecret is null ? null : new(MfaSecret, MfaSecretKeyId);

    public StoredMfaSecret? SealedPendingMfaSecret => MfaPendingSecret is null ? null : new(MfaPendingSecret, MfaPendingSecretKeyId);

    public string[] RecoveryCodeHashes { get; init; } = [];

    public bool Disabled { get; init; }

    public string EmailAddress(Identity.Encryption.PersonalData personalData) =>
        personalData.Open(EmailEncrypted, PersonalDataFields.OfUser(TenantId, Id))!;

    public Caller ToCaller(Guid sessionId, bool mfaSatisfied) => new(TenantId, Id, Role, sessionId, SecurityStamp, mfaSatisfied);
}

/// <summary>Reads users inside a tenant unit of work (row-level security keeps them to that tenant).</summary>
public static class UserAccounts
{
    /// <summary>The user, locked for update until the unit of work ends (MFA steps and recovery codes are read-modify-write).</summary>
    public static async Task<UserAccount?> FindForUpdateAsync(TenantUnitOfWork unitOfWork, Guid userId, CancellationToken cancellationToken) =>
        // SQL: a row lock ('for update') and computed flags.
        (await unitOfWork.Db.QueryToListAsync<UserAccount>(
            """
            select id as Id, tenant_id as TenantId, email_encrypted as EmailEncrypted, email_index as EmailIndex, role as Role,
                   password_hash as PasswordHash, security_stamp as SecurityStamp, mfa_secret as MfaSecret,
                   mfa_secret_key_id as MfaSecretKeyId, mfa_enabled_at is not null as MfaEnrolled, mfa_last_step as MfaLastStep,
                   mfa_pending_secret as MfaPendingSecret, mfa_pending_secret_key_id as MfaPendingSecretKeyId,
                   recovery_code_hashes as RecoveryCodeHashes, disabled_at is not null as Disabled
            from users where id = @userId
            for update
            """, new { userId }, cancellationToken)).SingleOrDefault();

    /// <summary>A new security stamp: every access token issued before is refused from the next request on.</summary>
    public static async Task<Guid> RotateSecurityStampAsync(TenantUnitOfWork unitOfWork, Guid userId, CancellationToken cancellationToken) =>
        // SQL: the database draws the new stamp and returns it in the same statement (update ... returning).
        await unitOfWork.Db.ExecuteAsync<Guid>(
            "update users set security_stamp = gen_random_uuid(), updated_at = now() where id = @userId returning security_stamp", new { userId }, cancellationToken);

    public static Task<bool> TenantRequiresMfaAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        unitOfWork.Db.GetTable<AccountTenantRow>().Where(tenant => tenant.Id == unitOfWork.TenantId)
            .Select(tenant => tenant.MfaRequired).SingleAsync(cancellationToken);
}
