using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Invisible.Identity.Tokens;

/// <summary>An HMAC-SHA-256 signing key with its <c>kid</c>. Keys live in the secret store; only their ids appear in tokens and logs.</summary>
public sealed record SigningKey(string Id, byte[] Secret, DateTimeOffset CreatedAt)
{
    public const int SecretBytes = 32;

    public static SigningKey Generate(DateTimeOffset now) =>
        new($"k{now:yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}", RandomNumberGenerator.GetBytes(SecretBytes), now);

    public SymmetricSecurityKey ToSecurityKey() => new(Secret) { KeyId = Id };

    public override string ToString() => $"SigningKey {{ Id = {Id}, CreatedAt = {CreatedAt:O} }}";
}

/// <summary>
/// Rotation by <c>kid</c>: new tokens are signed with the newest key; tokens signed with any key still in the ring validate,
/// so a rotation adds a key and retires the old one only after the last token it signed has expired (15 minutes).
/// </summary>
public sealed class SigningKeyRing
{
    private readonly Dictionary<string, SigningKey> _byId;

    public SigningKeyRing(IEnumerable<SigningKey> keys)
    {
        var list = keys.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("A signing key ring needs at least one key.", nameof(keys));
        }

        if (list.Any(key => key.Secret.Length < SigningKey.SecretBytes))
        {
            throw new ArgumentException($"Signing keys must have at least {SigningKey.SecretBytes * 8} bits.", nameof(keys));
        }

        _byId = list.ToDictionary(key => key.Id, StringComparer.Ordinal);
        Active = list.MaxBy(key => key.CreatedAt)!;
    }

    public SigningKey Active { get; }

    public IReadOnlyCollection<SigningKey> Keys => _byId.Values;

    public SigningKey? Find(string? id) => id is not null && _byId.TryGetValue(id, out var key) ? key : null;

    /// <summary>
    /// The ring kept in one secret: base64 keys separated by white space, newest first. To rotate, put a new key in front;
    /// drop the old one once the tokens it signed have expired. A key's <c>kid</c> is derived from its hash, so no id
    /// needs to be stored and the same secret yields the same ids in every process.
    /// </summary>
    public static SigningKeyRing FromSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var encoded = secret.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var keys = encoded.Select((value, position) =>
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(value);
            }
            catch (FormatException exception)
            {
                throw new FormatException($"Signing key {position + 1} of the secret is not base64.", exception);
            }

            // Order by position: the first key gets the latest (synthetic) creation time and so becomes the active one.
            return new SigningKey($"k{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}", bytes, DateTimeOffset.UnixEpoch.AddSeconds(encoded.Length - position));
        });
        return new SigningKeyRing(keys);
    }
}
