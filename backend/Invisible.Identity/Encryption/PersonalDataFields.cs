using System.Security.Cryptography;
using System.Text;

namespace Invisible.Identity.Encryption;

/// <summary>The fields that are encrypted, as bound into their ciphertexts (changing one makes its stored values unreadable).</summary>
public static class PersonalDataFields
{
    public const string UserEmail = "users.email";
    public const string InvitationEmail = "invitations.email";
    public const string VendorTaxId = "vendors.tax_id";
    public const string VendorEmail = "vendors.email";

    public static PersonalDataLocation OfUser(Guid tenantId, Guid userId) => new(tenantId, UserEmail, userId);

    public static PersonalDataLocation OfInvitation(Guid tenantId, Guid invitationId) => new(tenantId, InvitationEmail, invitationId);

    /// <summary>
    /// Vendor values are bound to the vendor code rather than the row id: an import seals them before the merge gives new
    /// vendors their ids. The code is unique per tenant, so a value copied to another vendor still does not open.
    /// </summary>
    public static PersonalDataLocation OfVendor(Guid tenantId, string field, string vendorCode) =>
        new(tenantId, field, VendorRowKey(vendorCode));

    private static Guid VendorRowKey(string vendorCode) => new(SHA256.HashData(Encoding.UTF8.GetBytes(vendorCode)).AsSpan(0, 16));
}

/// <summary>A vendor's personal data as stored: sealed values and the blind indexes it is looked up and compared by.</summary>
public sealed record SealedVendorData(byte[]? TaxIdEncrypted, byte[]? TaxIdIndex, byte[]? EmailEncrypted, byte[]? EmailIndex)
{
    /// <summary>Seals a vendor's tax id and e-mail address, bound to (tenant, field, vendor code), with their blind indexes.</summary>
    public static SealedVendorData Of(PersonalData data, BlindIndex index, Guid tenantId, string vendorCode, string? taxId, string? email) => new(
        data.Seal(taxId, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorTaxId, vendorCode)),
        index.OfTaxId(taxId),
        data.Seal(email, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorEmail, vendorCode)),
        index.OfEmail(email));
}
