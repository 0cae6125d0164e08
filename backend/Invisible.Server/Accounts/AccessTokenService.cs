using Invisible.Identity.Tokens;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Accounts;

/// <summary>
/// <see cref="AccessTokens"/> signed with the key ring kept in the secret store under <see cref="SecretNames.JwtSigningKey"/>
/// (see <see cref="SigningKeyRing.FromSecret"/> for rotation). The ring is read once per process.
/// </summary>
public sealed class AccessTokenService(ISecretStore secrets, IOptions<AccessTokenOptions> options, TimeProvider time)
{
    private Task<AccessTokens>? _tokens;

    public TimeSpan Lifetime => options.Value.Lifetime;

    public Task<AccessTokens> GetAsync(CancellationToken cancellationToken)
    {
        var loading = LazyInitializer.EnsureInitialized(ref _tokens, LoadAsync);
        if (loading.IsFaulted)
        {
            // A secret store that was unreachable (a Dapr sidecar still starting) gets another chance on the next request.
            Interlocked.CompareExchange(ref _tokens, null, loading);
        }

        return loading.WaitAsync(cancellationToken);
    }

    // Not cancellable by one caller: the load is shared by every request waiting for it.
    private async Task<AccessTokens> LoadAsync() =>
        new(SigningKeyRing.FromSecret(await secrets.GetSecretAsync(SecretNames.JwtSigningKey, CancellationToken.None)), options.Value, time);
}
