using Invisible.Platform.Secrets;

namespace Invisible.Server.Accounts;

/// <summary>
/// Refuses to start without the keys second factors depend on: the TOTP encryption key ring (seals the authenticator
/// secrets) and the recovery-code key. Without them every sign-in with two-step verification would fail with an internal
/// error at its second step; a start that stops with the name of the missing secret tells the operator what to restore.
/// Runs after the Dapr sidecar is ready (registered after the platform), so a store still starting is not mistaken for an
/// empty one.
/// </summary>
public sealed class SecondFactorKeysCheck(MfaSecretVault vault, RecoveryCodeKey recoveryCodeKey) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await CheckAsync(SecretNames.TotpEncryptionKey, "authenticator-app secrets", () => vault.ActiveKeyIdAsync(cancellationToken));
        await CheckAsync(SecretNames.RecoveryCodeKey, "recovery codes", () => recoveryCodeKey.GetAsync(cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task CheckAsync(string secretName, string protects, Func<Task> read)
    {
        try
        {
            await read();
        }
        catch (SecretNotFoundException missing)
        {
            throw new InvalidOperationException(
                $"The secret '{secretName}' is missing ({missing.Message}) Without it no {protects} can be sealed or checked, so nobody " +
                "with two-step sign-in could finish signing in. Restore the secret from the backup of the secret store (embedded mode: " +
                "secrets.json in the data directory; Dapr mode: the secret store of the components). A newly generated key would not " +
                "open what the old one sealed.", missing);
        }
        catch (Exception unreadable) when (unreadable is FormatException or ArgumentException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException(
                $"The secret '{secretName}' is not a usable key ({unreadable.Message}). It protects the {protects}; restore it from the " +
                "backup of the secret store.", unreadable);
        }
    }
}
