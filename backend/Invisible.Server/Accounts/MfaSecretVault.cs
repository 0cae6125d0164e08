using LinqToDB.Async;
using LinqToDB;
using System.Text;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Logging;
using Invisible.Server.Tenancy;

namespace Invisible.Server.Accounts;

/// <summary>A TOTP secret as the users table holds it: ciphertext and the id of its key (null: plaintext from before encryption).</summary>
public sealed record StoredMfaSecret(byte[] Value, string? KeyId);

/// <summary>
/// TOTP secrets encrypted at rest: AES-256-GCM with the key ring in the secret store under
/// <see cref="SecretNames.TotpEncryptionKey"/>, bound to the user's row (tenant and user id as associated data) so a
/// ciphertext copied to another user does not open. The key id is stored beside the ciphertext, so the key can rotate.
/// </summary>
public sealed class MfaSecretVault(ISecretStore secrets)
{
    private readonly SecretStoreValue<EncryptionKeyRing> _ring = new(secrets, SecretNames.TotpEncryptionKey, EncryptionKeyRing.FromSecret);

    public async Task<StoredMfaSecret> SealAsync(Guid tenantId, Guid userId, byte[] secret, CancellationToken cancellationToken)
    {
        var sealedValue = (await _ring.GetAsync(cancellationToken)).Seal(secret, AssociatedData(tenantId, userId));
        return new StoredMfaSecret(sealedValue.Ciphertext, sealedValue.KeyId);
    }

    /// <exception cref="UnknownEncryptionKeyException">Sealed with a key no longer in the secret (dropped before re-sealing).</exception>
    public async Task<byte[]> OpenAsync(Guid tenantId, Guid userId, StoredMfaSecret stored, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return stored.KeyId is null
            ? stored.Value
            : (await _ring.GetAsync(cancellationToken)).Open(new SealedValue(stored.KeyId, stored.Value), AssociatedData(tenantId, userId));
    }

    /// <summary>Whether the value is plaintext or sealed with a key other than the active one, and so should be sealed again.</summary>
    public async Task<bool> NeedsResealingAsync(StoredMfaSecret stored, CancellationToken cancellationToken) =>
        stored.KeyId != (await _ring.GetAsync(cancellationToken)).Active.Id;

    public async Task<string> ActiveKeyIdAsync(CancellationToken cancellationToken) => (await _ring.GetAsync(cancellationToken)).Active.Id;

    private static byte[] AssociatedData(Guid tenantId, Guid userId) => Encoding.ASCII.GetBytes($"invisible.users.mfa_secret:{tenantId:N}:{userId:N}");
}

/// <summary>
/// Seals every TOTP secret that is still plaintext (written before migration 0006) or sealed with a retired key, tenant by
/// tenant, when the server starts. Values are also re-sealed when used (<see cref="MultiFactor"/>); this sweep makes sure
/// none waits for its user to sign in, so the old key can be dropped and no plaintext stays in the database.
/// </summary>
public sealed class MfaSecretResealing(TenantDirectory tenants, TenantDatabase database, MfaSecretVault vault, ILogger<MfaSecretResealing> logger)
    : BackgroundService
{
    /// <summary>
    /// Every tenant in turn; a tenant that fails (e.g. a secret under a key already dropped) is logged and the others still
    /// done. Returns how many users' secrets were sealed again.
    /// </summary>
    public Task<int> ResealAllAsync(CancellationToken cancellationToken) =>
        EveryTenant.SumAsync(tenants, ResealTenantAsync, logger, "Re-sealing the TOTP secrets", cancellationToken);

    /// <summary>Seals the tenant's plaintext and retired-key secrets with the active key, in one transaction; returns how many users'.</summary>
    public async Task<int> ResealTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var activeKeyId = await vault.ActiveKeyIdAsync(cancellationToken);
        var resealed = 0;
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        // SQL: a row lock ('for update') on the users whose secrets are re-sealed.
        var stale = await unitOfWork.Db.QueryToListAsync<StaleSecrets>(
            """
            select id as UserId, mfa_secret as Secret, mfa_secret_key_id as SecretKeyId,
                   mfa_pending_secret as PendingSecret, mfa_pending_secret_key_id as PendingSecretKeyId
            from users
            where (mfa_secret is not null and mfa_secret_key_id is distinct from @activeKeyId)
               or (mfa_pending_secret is not null and mfa_pending_secret_key_id is distinct from @activeKeyId)
            for update
            """, new { activeKeyId }, cancellationToken);
        foreach (var user in stale)
        {
            var secret = await ResealAsync(tenantId, user.UserId, user.Secret, user.SecretKeyId, cancellationToken);
            var pending = await ResealAsync(tenantId, user.UserId, user.PendingSecret, user.PendingSecretKeyId, cancellationToken);
            await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.UserId)
                .Set(row => row.MfaSecret, secret?.Value).Set(row => row.MfaSecretKeyId, secret?.KeyId)
                .Set(row => row.MfaPendingSecret, pending?.Value).Set(row => row.MfaPendingSecretKeyId, pending?.KeyId)
                .UpdateAsync(cancellationToken);
            resealed++;
        }

        await unitOfWork.CommitAsync(cancellationToken);
        return resealed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var resealed = await ResealAllAsync(stoppingToken);
            if (resealed > 0)
            {
                logger.LogInformation("Sealed the TOTP secrets of {Users} users with the current encryption key", resealed);
            }
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // Not fatal: every secret is re-sealed when it is next used as well. The next start tries again.
            logger.LogError(exception, "Re-sealing TOTP secrets with the current encryption key failed");
        }
    }

    private async Task<StoredMfaSecret?> ResealAsync(Guid tenantId, Guid userId, byte[]? value, string? keyId, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            return null;
        }

        var stored = new StoredMfaSecret(value, keyId);
        return await vault.NeedsResealingAsync(stored, cancellationToken)
            ? await vault.SealAsync(tenantId, userId, await vault.OpenAsync(tenantId, userId, stored, cancellationToken), cancellationToken)
            : stored;
    }

    private sealed record StaleSecrets(Guid UserId, byte[]? Secret, string? SecretKeyId, byte[]? PendingSecret, string? PendingSecretKeyId);
}
