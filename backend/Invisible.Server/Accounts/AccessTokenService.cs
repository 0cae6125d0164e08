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
    private readonly SecretStoreValue<AccessTokens> _tokens =
        new(secrets, SecretNames.JwtSigningKey, secret => new AccessTokens(SigningKeyRing.FromSecret(secret), options.Value, time));

    public TimeSpan Lifetime => options.Value.Lifetime;

    public Task<AccessTokens> GetAsync(CancellationToken cancellationToken) => _tokens.GetAsync(cancellationToken);

    /// <summary>The signing key of <paramref name="kid"/>, once <see cref="GetAsync"/> has read the ring; none before.</summary>
    public IEnumerable<Microsoft.IdentityModel.Tokens.SecurityKey> FindKey(string? kid) => _tokens.Loaded?.FindKey(kid) ?? [];
}
