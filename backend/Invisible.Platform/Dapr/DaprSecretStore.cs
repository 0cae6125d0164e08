using Dapr;
using Dapr.Client;
using Invisible.Platform.Secrets;

namespace Invisible.Platform.Dapr;

/// <summary><see cref="ISecretStore"/> on the Dapr secrets API (the <c>secretstore</c> component) through <see cref="DaprClient"/>.</summary>
public sealed class DaprSecretStore(DaprClient dapr) : ISecretStore
{
    private const string Store = DaprComponents.SecretStore;

    public async Task<string> GetSecretAsync(string name, CancellationToken cancellationToken)
    {
        Dictionary<string, string> values;
        try
        {
            values = await dapr.GetSecretAsync(Store, name, cancellationToken: cancellationToken);
        }
        catch (DaprException e) when (DaprErrors.DetailContains(e, "not found"))
        {
            // Stores answer a missing key with an error whose text is the only thing that tells it apart.
            throw new SecretNotFoundException(name, $"Dapr secret store '{Store}'");
        }

        // The answer maps key to value; single-value stores use the secret's own name as the key.
        return values.TryGetValue(name, out var value)
            ? value
            : throw new SecretNotFoundException(name, $"Dapr secret store '{Store}'");
    }
}
