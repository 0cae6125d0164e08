namespace Invisible.Platform.Secrets;

/// <summary>Reads secrets (signing keys, OAuth client secrets, SMTP passwords) by name.</summary>
public interface ISecretStore
{
    /// <exception cref="SecretNotFoundException">The store has no secret of that name.</exception>
    Task<string> GetSecretAsync(string name, CancellationToken cancellationToken);
}

public sealed class SecretNotFoundException(string name, string store)
    : Exception($"Secret '{name}' is not defined in the {store}.")
{
    public string SecretName { get; } = name;
}
