using Invisible.Identity.Encryption;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;

namespace Invisible.Server.FieldEncryption;

/// <summary>
/// The keys of field-level encryption, read once per process from the secret store: the AES-256-GCM key ring of
/// <see cref="SecretNames.PersonalDataEncryptionKey"/> (rotation as for TOTP secrets: new key first, old ones after it until
/// the start-up sweep has re-sealed every value) and the HMAC key of the blind indexes (<see cref="SecretNames.BlindIndexKey"/>).
/// </summary>
public sealed class PersonalDataKeys(ISecretStore secrets)
{
    private readonly SecretStoreValue<Identity.Encryption.PersonalData> _data =
        new(secrets, SecretNames.PersonalDataEncryptionKey, secret => new Identity.Encryption.PersonalData(EncryptionKeyRing.FromSecret(secret)));

    private readonly SecretStoreValue<BlindIndex> _index = new(secrets, SecretNames.BlindIndexKey, ParseIndexKey);

    public Task<Identity.Encryption.PersonalData> DataAsync(CancellationToken cancellationToken) => _data.GetAsync(cancellationToken);

    public Task<BlindIndex> IndexAsync(CancellationToken cancellationToken) => _index.GetAsync(cancellationToken);

    private static BlindIndex ParseIndexKey(string secret)
    {
        var key = Convert.FromBase64String(secret.Trim());
        return key.Length >= 32 ? new BlindIndex(key) : throw new InvalidOperationException($"The secret {SecretNames.BlindIndexKey} must be base64 of at least 32 bytes.");
    }
}

/// <summary>The fields that are encrypted, as bound into their ciphertexts (changing one makes its stored values unreadable).</summary>
public static class PersonalDataFields
{
    public const string UserEmail = "users.email";
    public const string InvitationEmail = "invitations.email";
    public const string VendorTaxId = "vendors.tax_id";
    public const string VendorEmail = "vendors.email";

    /// <summary>
    /// Vendor values are bound to the vendor code rather than the row id: an import seals them before the merge gives new
    /// vendors their ids. The code is unique per tenant, so a value copied to another vendor still does not open.
    /// </summary>
    public static PersonalDataLocation OfVendor(Guid tenantId, string field, string vendorCode) =>
        new(tenantId, field, VendorRowKey(vendorCode));

    private static Guid VendorRowKey(string vendorCode) =>
        new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(vendorCode)).AsSpan(0, 16));
}
