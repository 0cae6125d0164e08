using System.Security.Cryptography;
using System.Text;

namespace Invisible.Identity.Encryption;

/// <summary>An AES-256 key with its id. Keys live in the secret store; only their ids are stored beside what they encrypt.</summary>
public sealed record EncryptionKey(string Id, byte[] Key)
{
    public const int KeyBytes = 32;

    public override string ToString() => $"EncryptionKey {{ Id = {Id} }}";
}

/// <summary>What <see cref="EncryptionKeyRing.Seal"/> produced: the ciphertext and the id of the key that opens it.</summary>
public sealed record SealedValue(string KeyId, byte[] Ciphertext);

/// <summary>
/// AES-256-GCM encryption of small secrets at rest (TOTP secrets), with rotation by key id: values are sealed with the
/// newest key and opened with whichever key of the ring their stored id names. The associated data binds a ciphertext to
/// its row (tenant and user), so a value copied into another row does not open.
/// </summary>
public sealed class EncryptionKeyRing
{
    // Layout of a ciphertext: format version, nonce, tag, encrypted bytes. The version lets the layout change later.
    private const byte FormatVersion = 1;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int HeaderBytes = 1 + NonceBytes + TagBytes;
    private static readonly byte[] KeyIdLabel = Encoding.ASCII.GetBytes("invisible.encryption-key-id\0");

    private readonly Dictionary<string, EncryptionKey> _byId;

    public EncryptionKeyRing(IReadOnlyList<EncryptionKey> keysNewestFirst)
    {
        ArgumentNullException.ThrowIfNull(keysNewestFirst);
        if (keysNewestFirst.Count == 0)
        {
            throw new ArgumentException("An encryption key ring needs at least one key.", nameof(keysNewestFirst));
        }

        if (keysNewestFirst.Any(key => key.Key.Length != EncryptionKey.KeyBytes))
        {
            throw new ArgumentException($"Encryption keys must have exactly {EncryptionKey.KeyBytes * 8} bits.", nameof(keysNewestFirst));
        }

        _byId = keysNewestFirst.DistinctBy(key => key.Id).ToDictionary(key => key.Id, StringComparer.Ordinal);
        Active = keysNewestFirst[0];
    }

    /// <summary>The key new values are sealed with.</summary>
    public EncryptionKey Active { get; }

    public IReadOnlyCollection<EncryptionKey> Keys => _byId.Values;

    /// <summary>
    /// The ring kept in one secret: base64 keys of 32 bytes separated by white space, newest first. To rotate, put a new key in
    /// front; drop the old one once nothing sealed with it is left. A key's id is derived from the key, so none is configured.
    /// </summary>
    /// <exception cref="FormatException">A key is not base64 or not 32 bytes; the message names its position, never its value.</exception>
    public static EncryptionKeyRing FromSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var encoded = secret.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (encoded.Length == 0)
        {
            throw new FormatException("The encryption key secret is empty; it needs at least one base64 key of 32 bytes.");
        }

        return new EncryptionKeyRing(encoded.Select((value, position) =>
        {
            var key = new byte[value.Length];
            if (!Convert.TryFromBase64String(value, key, out var length) || length != EncryptionKey.KeyBytes)
            {
                throw new FormatException($"Encryption key {position + 1} of the secret is not the base64 of {EncryptionKey.KeyBytes} bytes.");
            }

            return FromKey(key[..length]);
        }).ToList());
    }

    /// <summary>A key with its derived id (a hash of the key under a label of its own, so the id says nothing usable about the key).</summary>
    public static EncryptionKey FromKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = SHA256.HashData([.. KeyIdLabel, .. key]);
        return new EncryptionKey($"e{Convert.ToHexStringLower(hash)[..16]}", key);
    }

    public static string NewKeyBase64() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(EncryptionKey.KeyBytes));

    public EncryptionKey? Find(string? id) => id is not null && _byId.TryGetValue(id, out var key) ? key : null;

    /// <summary>Encrypts with the active key and a fresh random nonce.</summary>
    public SealedValue Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var ciphertext = new byte[HeaderBytes + plaintext.Length];
        ciphertext[0] = FormatVersion;
        var nonce = ciphertext.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Active.Key, TagBytes);
        aes.Encrypt(nonce, plaintext, ciphertext.AsSpan(HeaderBytes), ciphertext.AsSpan(1 + NonceBytes, TagBytes), associatedData);
        return new SealedValue(Active.Id, ciphertext);
    }

    /// <exception cref="UnknownEncryptionKeyException">The ring has no key of that id (it was dropped too early).</exception>
    /// <exception cref="CryptographicException">The ciphertext was altered, belongs to other associated data, or is not in this format.</exception>
    public byte[] Open(SealedValue sealedValue, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(sealedValue);
        var key = Find(sealedValue.KeyId) ?? throw new UnknownEncryptionKeyException(sealedValue.KeyId);
        var ciphertext = sealedValue.Ciphertext;
        if (ciphertext.Length < HeaderBytes || ciphertext[0] != FormatVersion)
        {
            throw new CryptographicException("The value is not an AES-GCM ciphertext of this format.");
        }

        var plaintext = new byte[ciphertext.Length - HeaderBytes];
        using var aes = new AesGcm(key.Key, TagBytes);
        aes.Decrypt(ciphertext.AsSpan(1, NonceBytes), ciphertext.AsSpan(HeaderBytes), ciphertext.AsSpan(1 + NonceBytes, TagBytes), plaintext, associatedData);
        return plaintext;
    }
}

public sealed class UnknownEncryptionKeyException(string keyId)
    : CryptographicException($"The encryption key '{keyId}' is not in the key ring; put it back into the secret until every value sealed with it is re-sealed.")
{
    public string KeyId { get; } = keyId;
}
