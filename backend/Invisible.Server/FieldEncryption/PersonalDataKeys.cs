using Invisible.Data.Imports;
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

    /// <summary>What a vendor import seals its rows with before they are staged.</summary>
    public async Task<IVendorSealing> VendorSealingAsync(CancellationToken cancellationToken) =>
        new VendorSealing(await DataAsync(cancellationToken), await IndexAsync(cancellationToken));

    private sealed class VendorSealing(Identity.Encryption.PersonalData data, BlindIndex index) : IVendorSealing
    {
        public SealedVendor Seal(Guid tenantId, string vendorCode, string? taxId, string? email)
        {
            var values = SealedVendorData.Of(data, index, tenantId, vendorCode, taxId, email);
            return new SealedVendor(values.TaxIdEncrypted, values.TaxIdIndex, values.EmailEncrypted, values.EmailIndex);
        }
    }

    private static BlindIndex ParseIndexKey(string secret)
    {
        var key = Convert.FromBase64String(secret.Trim());
        return key.Length >= 32 ? new BlindIndex(key) : throw new InvalidOperationException($"The secret {SecretNames.BlindIndexKey} must be base64 of at least 32 bytes.");
    }
}
