using Invisible.Data.Access;
using LinqToDB;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Data.Tenancy;

/// <summary>A row of some tenant, found before that tenant was known.</summary>
public sealed record TenantScopedId(Guid TenantId, Guid Id);

/// <summary>
/// The only questions the application role may ask across tenants, each answered by a narrow SECURITY DEFINER function
/// with only "which tenant, which row": callers then open a <see cref="TenantUnitOfWork"/> for that tenant to read the
/// row itself (password hash, expiry, ...) under row-level security. Hashes are SHA-256 of the secret token or key.
/// </summary>
public sealed class CrossTenantLookup(NpgsqlDataSource appDataSource)
{
    /// <summary>
    /// Enabled users whose e-mail address has this blind index (HMAC of the normalised address, issue #20); one address
    /// may exist in several tenants. The database never sees the address itself.
    /// </summary>
    // SQL: auth_find_users_by_email_index is a set-returning SECURITY DEFINER function.
    public Task<IReadOnlyList<TenantScopedId>> FindUsersByEmailIndexAsync(byte[] emailIndex, CancellationToken cancellationToken) =>
        QueryAsync("select tenant_id as TenantId, user_id as Id from auth_find_users_by_email_index(@value)", emailIndex, cancellationToken);

    public async Task<TenantScopedId?> FindApiKeyAsync(byte[] keyHash, CancellationToken cancellationToken) =>
        (await QueryAsync("select tenant_id as TenantId, api_key_id as Id from auth_find_api_key(@value)", keyHash, cancellationToken)).SingleOrDefault();

    public async Task<TenantScopedId?> FindRefreshTokenAsync(byte[] tokenHash, CancellationToken cancellationToken) =>
        (await QueryAsync("select tenant_id as TenantId, refresh_token_id as Id from auth_find_refresh_token(@value)", tokenHash, cancellationToken)).SingleOrDefault();

    public async Task<TenantScopedId?> FindInvitationAsync(byte[] tokenHash, CancellationToken cancellationToken) =>
        (await QueryAsync("select tenant_id as TenantId, invitation_id as Id from auth_find_invitation(@value)", tokenHash, cancellationToken)).SingleOrDefault();

    /// <summary>The link of "Forgot password?" by the SHA-256 of its token (table <c>password_resets</c>).</summary>
    public async Task<TenantScopedId?> FindPasswordResetAsync(byte[] tokenHash, CancellationToken cancellationToken) =>
        (await QueryAsync("select tenant_id as TenantId, password_reset_id as Id from auth_find_password_reset(@value)", tokenHash, cancellationToken)).SingleOrDefault();

    /// <summary>Tenants whose outbox holds undelivered events (the embedded dispatcher's catch-up after a start).</summary>
    public async Task<IReadOnlyList<Guid>> TenantsWithPendingOutboxAsync(CancellationToken cancellationToken)
    {
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // SQL: outbox_tenants_with_pending is a SECURITY DEFINER function that looks across tenants.
        return (await db.QueryToListAsync<Guid>(
            "select outbox_tenants_with_pending()", cancellationToken)).ToList();
    }

    private async Task<IReadOnlyList<TenantScopedId>> QueryAsync(string sql, object value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // SQL: each look-up is a SECURITY DEFINER function that looks across tenants (the callers above name it).
        return (await db.QueryToListAsync<TenantScopedId>(sql, new { value }, cancellationToken)).ToList();
    }
}
