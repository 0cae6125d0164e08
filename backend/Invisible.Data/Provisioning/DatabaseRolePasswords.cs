using Invisible.Data.Secrets;

namespace Invisible.Data.Provisioning;

/// <summary>Login passwords of the owner and application roles.</summary>
public sealed record DatabaseRolePasswords(string Owner, string App)
{
    /// <summary>Embedded mode: the passwords kept in the data directory's secrets file, generated on first use.</summary>
    public static async Task<DatabaseRolePasswords> FromSecretsFileAsync(DatabaseSecretsFile secrets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return new DatabaseRolePasswords(
            await secrets.GetOrCreateAsync(DatabaseSecretsFile.OwnerPassword, cancellationToken),
            await secrets.GetOrCreateAsync(DatabaseSecretsFile.AppPassword, cancellationToken));
    }

    // Keeps the passwords out of logs and exception messages that print this record.
    public override string ToString() => $"{nameof(DatabaseRolePasswords)} {{ Owner = ***, App = *** }}";
}
