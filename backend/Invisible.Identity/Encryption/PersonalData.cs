using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Invisible.Identity.Encryption;

/// <summary>Where a personal or banking value lives: bound into its ciphertext, so a value copied to another row or column does not open.</summary>
/// <param name="Field">Table and column, e.g. "vendors.tax_id".</param>
public sealed record PersonalDataLocation(Guid TenantId, string Field, Guid RowId)
{
    internal byte[] AssociatedData() => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{TenantId:N}|{Field}|{RowId:N}"));
}

/// <summary>
/// Field-level encryption of personal and banking data at rest (vendor tax ids, e-mail addresses, bank details; users'
/// e-mail addresses): AES-256-GCM under the <see cref="EncryptionKeyRing"/> of the secret store (rotation as for TOTP
/// secrets: a new key in front, values re-sealed, the old key dropped). A stored value is one self-describing bytea (key
/// id and ciphertext), so a row needs no key-id column per field and a start-up sweep can find values under old keys.
/// </summary>
public sealed class PersonalData(EncryptionKeyRing ring)
{
    private const byte FormatVersion = 1;

    public EncryptionKeyRing Ring => ring;

    /// <summary>The value as stored (<c>*_encrypted bytea</c>); null stays null.</summary>
    public byte[]? Seal(string? plaintext, PersonalDataLocation location)
    {
        if (plaintext is null)
        {
            return null;
        }

        var sealedValue = ring.Seal(Encoding.UTF8.GetBytes(plaintext), location.AssociatedData());
        var keyId = Encoding.ASCII.GetBytes(sealedValue.KeyId);
        return [FormatVersion, checked((byte)keyId.Length), .. keyId, .. sealedValue.Ciphertext];
    }

    /// <exception cref="CryptographicException">Altered, moved to another location, or sealed under a key no longer in the ring.</exception>
    public string? Open(byte[]? stored, PersonalDataLocation location) =>
        stored is null ? null : Encoding.UTF8.GetString(ring.Open(Parse(stored), location.AssociatedData()));

    /// <summary>Whether <paramref name="stored"/> was sealed under an older key and should be re-sealed (start-up sweep).</summary>
    public bool NeedsResealing(byte[] stored) => Parse(stored).KeyId != ring.Active.Id;

    private static SealedValue Parse(byte[] stored)
    {
        if (stored.Length < 2 || stored[0] != FormatVersion || stored.Length < 2 + stored[1])
        {
            throw new CryptographicException("The value is not sealed personal data of this format.");
        }

        return new SealedValue(Encoding.ASCII.GetString(stored, 2, stored[1]), stored[(2 + stored[1])..]);
    }
}

/// <summary>
/// The blind index of an encrypted value the product looks up by (sign-in by e-mail, vendor resolution by tax id):
/// HMAC-SHA256 under a key of its own (not the encryption key) over the normalised value, so equal values find each other
/// in an index while the database alone cannot test guesses. Normalisation decides what counts as equal, so it is part of
/// the index: changing it means re-indexing every row.
/// </summary>
public sealed class BlindIndex
{
    private readonly byte[] _key;

    public BlindIndex(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 32)
        {
            throw new ArgumentException("A blind-index key needs at least 256 bits.", nameof(key));
        }

        _key = key;
    }

    /// <summary>E-mail addresses compare trimmed and lower-cased (invariant), as sign-in already treats them.</summary>
    public byte[]? OfEmail(string? email) => Of("email", email?.Trim().ToLowerInvariant());

    /// <summary>Tax ids compare without spaces, dots, dashes and slashes, upper-cased ("GB 123.456-789" = "gb123456789").</summary>
    public byte[]? OfTaxId(string? taxId) => Of("tax-id", taxId is null ? null : new string(taxId.Where(char.IsAsciiLetterOrDigit).ToArray()).ToUpperInvariant());

    /// <summary>The purpose is part of the input, so an e-mail and a tax id that normalise alike still index apart.</summary>
    private byte[]? Of(string purpose, string? normalised) =>
        string.IsNullOrEmpty(normalised) ? null : HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{purpose}\0{normalised}"));
}
