using System.Net;
using System.Net.Http.Json;
using Invisible.Platform.Secrets;

namespace Invisible.Platform.Dapr;

/// <summary><see cref="ISecretStore"/> on the Dapr secrets API (<c>GET /v1.0/secrets/secretstore/{name}</c>).</summary>
public sealed class DaprSecretStore(DaprSidecarClient sidecar) : ISecretStore
{
    private const string Store = DaprComponents.SecretStore;

    public async Task<string> GetSecretAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await sidecar.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Get, $"v1.0/secrets/{Store}/{Uri.EscapeDataString(name)}"),
            cancellationToken);

        // 204 means the store has no such secret; most stores answer a missing key with an error instead.
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            throw new SecretNotFoundException(name, $"Dapr secret store '{Store}'");
        }

        await DaprSidecarClient.EnsureSuccessAsync(response, $"get secret '{name}'", cancellationToken);

        // The answer maps key to value; single-value stores use the secret's own name as the key.
        var values = await response.Content.ReadFromJsonAsync<Dictionary<string, string>>(DaprJson.Options, cancellationToken);
        return values is not null && values.TryGetValue(name, out var value)
            ? value
            : throw new SecretNotFoundException(name, $"Dapr secret store '{Store}'");
    }
}
