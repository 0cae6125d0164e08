using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Invisible.Identity.Tokens;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;

namespace Invisible.Server.Security;

/// <summary>
/// Short-lived or single-purpose tokens for links that cannot carry the caller's bearer token (a PDF in an iframe, an
/// e-mail's unsubscribe link): dot-separated fields signed with HMAC-SHA256 under a key derived from the access-token key
/// ring for one <paramref name="purpose"/>. Every server of a deployment accepts them, key rotation keeps old ones valid
/// while their key is in the ring, and a token of one purpose can never pass as another's or as an access token.
/// </summary>
public sealed class SignedPayloads(ISecretStore secrets, string purpose)
{
    private const int MaxPayloadLength = 512;
    private const int MaxSignatureLength = 128;

    private readonly byte[] purposeBytes = Encoding.ASCII.GetBytes(purpose);
    private readonly SecretStoreValue<SigningKeyRing> keys = new(secrets, SecretNames.JwtSigningKey, SigningKeyRing.FromSecret);

    /// <summary>A token carrying <paramref name="fields"/> (none may contain a dot), signed with the active key.</summary>
    public async Task<string> SignAsync(IReadOnlyList<string> fields, CancellationToken cancellationToken)
    {
        var key = (await keys.GetAsync(cancellationToken)).Active;
        var payload = string.Join('.', [key.Id, .. fields]);
        return $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{Base64Url.EncodeToString(Sign(key, payload))}";
    }

    /// <summary>The fields of a genuine token with exactly <paramref name="fieldCount"/> of them; null for anything else.</summary>
    public async Task<string[]?> OpenAsync(string? token, int fieldCount, CancellationToken cancellationToken)
    {
        var parts = (token ?? "").Split('.');
        if (parts.Length != 2 || parts[0].Length > MaxPayloadLength || parts[1].Length > MaxSignatureLength)
        {
            return null;
        }

        string payload;
        byte[] signature;
        try
        {
            payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0]));
            signature = Base64Url.DecodeFromChars(parts[1]);
        }
        catch (FormatException)
        {
            return null;
        }

        var fields = payload.Split('.');
        return fields.Length == fieldCount + 1 && (await keys.GetAsync(cancellationToken)).Find(fields[0]) is { } key &&
               CryptographicOperations.FixedTimeEquals(Sign(key, payload), signature)
            ? fields[1..]
            : null;
    }

    private byte[] Sign(SigningKey key, string payload) =>
        HMACSHA256.HashData(HMACSHA256.HashData(key.Secret, purposeBytes), Encoding.UTF8.GetBytes(payload));
}
