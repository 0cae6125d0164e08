using LinqToDB.Mapping;

namespace Invisible.Server.Accounts;

/// <summary>The columns of <c>users</c> that accounts write; the e-mail address only sealed, with its blind index (issue #20).</summary>
[Table("users")]
internal sealed class UserRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }
    [Column("tenant_id")] public Guid TenantId { get; set; }
    [Column("email_encrypted")] public byte[] EmailEncrypted { get; set; } = [];
    [Column("email_index")] public byte[] EmailIndex { get; set; } = [];
    [Column("display_name")] public string DisplayName { get; set; } = "";
    [Column("role")] public string Role { get; set; } = "";
    [Column("password_hash")] public string? PasswordHash { get; set; }
    [Column("mfa_enabled_at", SkipOnInsert = true)] public DateTimeOffset? MfaEnabledAt { get; set; }
    [Column("disabled_at", SkipOnInsert = true)] public DateTimeOffset? DisabledAt { get; set; }
    [Column("last_sign_in_at", SkipOnInsert = true)] public DateTimeOffset? LastSignInAt { get; set; }
    [Column("mfa_secret", SkipOnInsert = true)] public byte[]? MfaSecret { get; set; }
    [Column("mfa_secret_key_id", SkipOnInsert = true)] public string? MfaSecretKeyId { get; set; }
    [Column("mfa_pending_secret", SkipOnInsert = true)] public byte[]? MfaPendingSecret { get; set; }
    [Column("mfa_pending_secret_key_id", SkipOnInsert = true)] public string? MfaPendingSecretKeyId { get; set; }
    [Column("mfa_last_step", SkipOnInsert = true)] public long? MfaLastStep { get; set; }
    [Column("recovery_code_hashes", SkipOnInsert = true)] public string[] RecoveryCodeHashes { get; set; } = [];
}

/// <summary>The columns of <c>invitations</c> that accounts read and write; the address only sealed.</summary>
[Table("invitations")]
internal sealed class InvitationRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }
    [Column("tenant_id")] public Guid TenantId { get; set; }
    [Column("email_encrypted")] public byte[] EmailEncrypted { get; set; } = [];
    [Column("role")] public string Role { get; set; } = "";
    [Column("token_hash")] public byte[] TokenHash { get; set; } = [];
    [Column("invited_by")] public Guid? InvitedBy { get; set; }
    [Column("expires_at")] public DateTimeOffset ExpiresAt { get; set; }
    [Column("accepted_at", SkipOnInsert = true)] public DateTimeOffset? AcceptedAt { get; set; }
    [Column("revoked_at", SkipOnInsert = true)] public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>The columns of <c>tenants</c> a session reports.</summary>
[Table("tenants")]
internal sealed class AccountTenantRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }
    [Column("slug")] public string Slug { get; set; } = "";
    [Column("mfa_required")] public bool MfaRequired { get; set; }
}

/// <summary>The columns of <c>api_keys</c> that say whether a key may still call.</summary>
[Table("api_keys")]
internal sealed class ApiKeyValidityRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }
    [Column("role")] public string Role { get; set; } = "";
    [Column("revoked_at")] public DateTimeOffset? RevokedAt { get; set; }
    [Column("expires_at")] public DateTimeOffset? ExpiresAt { get; set; }
}
