using LinqToDB.Mapping;

namespace Invisible.Server.Accounts;

/// <summary>A refresh token as <see cref="Sessions"/> issues and revokes it (row-level security keeps it to the tenant).</summary>
[Table("refresh_tokens")]
internal sealed class RefreshTokenRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("tenant_id")] public Guid TenantId { get; init; }

    [Column("user_id")] public Guid UserId { get; init; }

    [Column("family_id")] public Guid FamilyId { get; init; }

    /// <summary>SHA-256 of the token; the token itself is never stored.</summary>
    [Column("token_hash")] public byte[] TokenHash { get; init; } = [];

    [Column("issued_at")] public DateTimeOffset IssuedAt { get; init; }

    [Column("expires_at")] public DateTimeOffset ExpiresAt { get; init; }

    [Column("revoked_at")] public DateTimeOffset? RevokedAt { get; init; }

    [Column("mfa_satisfied")] public bool MfaSatisfied { get; init; }
}
