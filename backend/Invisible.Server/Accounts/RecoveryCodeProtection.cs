using LinqToDB.Async;
using LinqToDB;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Identity.Mfa;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Logging;
using Invisible.Server.Tenancy;

namespace Invisible.Server.Accounts;

/// <summary>The server key recovery codes are stored under (<see cref="SecretNames.RecoveryCodeKey"/>), read once per process.</summary>
public sealed class RecoveryCodeKey(ISecretStore secrets)
{
    private readonly SecretStoreValue<byte[]> _key = new(secrets, SecretNames.RecoveryCodeKey, Parse);

    public Task<byte[]> GetAsync(CancellationToken cancellationToken) => _key.GetAsync(cancellationToken);

    private static byte[] Parse(string secret)
    {
        var key = Convert.FromBase64String(secret.Trim());
        return key.Length >= 32 ? key : throw new InvalidOperationException($"The secret {SecretNames.RecoveryCodeKey} must be base64 of at least 32 bytes.");
    }
}

/// <summary>
/// Wraps every recovery code still stored as a plain SHA-256 (written before the key existed) into its keyed form, tenant
/// by tenant, when the server starts; no code is needed for that. Codes are also wrapped when one is used
/// (<see cref="MultiFactor"/>); this sweep makes sure no plain hash waits in the database for its user.
/// </summary>
public sealed class RecoveryCodeWrapping(TenantDirectory tenants, TenantDatabase database, RecoveryCodeKey key, ILogger<RecoveryCodeWrapping> logger)
    : BackgroundService
{
    /// <summary>Every tenant in turn (a failing one is logged, the others still done); returns how many users' codes were wrapped.</summary>
    public Task<int> WrapAllAsync(CancellationToken cancellationToken) =>
        EveryTenant.SumAsync(tenants, WrapTenantAsync, logger, "Wrapping the recovery codes", cancellationToken);

    public async Task<int> WrapTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var secret = await key.GetAsync(cancellationToken);
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        // SQL: unnest() over a text[] column to find codes not yet wrapped, which LINQ cannot say.
        var plain = await unitOfWork.Db.QueryToListAsync(
            reader => (Id: reader.GetGuid(0), Hashes: reader.GetFieldValue<string[]>(1)),
            """
            select id, recovery_code_hashes from users
            where exists (select 1 from unnest(recovery_code_hashes) stored where stored not like @prefix || '%')
            for update
            """,
            new { prefix = RecoveryCodes.KeyedPrefix }, cancellationToken);
        foreach (var (id, hashes) in plain)
        {
            var wrapped = hashes.Select(stored => RecoveryCodes.Wrap(secret, stored)).ToArray();
            await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == id).Set(row => row.RecoveryCodeHashes, wrapped).UpdateAsync(cancellationToken);
        }

        await unitOfWork.CommitAsync(cancellationToken);
        return plain.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (await WrapAllAsync(stoppingToken) is > 0 and var wrapped)
            {
                logger.LogInformation("Wrapped the plain recovery-code hashes of {Users} users with the recovery-code key", wrapped);
            }
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // Not fatal: plain hashes still redeem and are wrapped when used. The next start tries again.
            logger.LogError(exception, "Wrapping recovery codes with the recovery-code key failed");
        }
    }
}
