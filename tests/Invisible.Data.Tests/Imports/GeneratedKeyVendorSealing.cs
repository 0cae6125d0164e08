using System.Security.Cryptography;
using Invisible.Data.Imports;
using Invisible.Identity.Encryption;

namespace Invisible.Data.Tests.Imports;

/// <summary>The product's sealing of vendors (AES-256-GCM and HMAC blind indexes) under keys generated for the test run.</summary>
public sealed class GeneratedKeyVendorSealing : IVendorSealing
{
    public static readonly GeneratedKeyVendorSealing Instance = new();

    public PersonalData Data { get; } = new(EncryptionKeyRing.FromSecret(EncryptionKeyRing.NewKeyBase64()));

    public BlindIndex Index { get; } = new(RandomNumberGenerator.GetBytes(32));

    public SealedVendor Seal(Guid tenantId, string vendorCode, string? taxId, string? email)
    {
        var values = SealedVendorData.Of(Data, Index, tenantId, vendorCode, taxId, email);
        return new SealedVendor(values.TaxIdEncrypted, values.TaxIdIndex, values.EmailEncrypted, values.EmailIndex);
    }
}
