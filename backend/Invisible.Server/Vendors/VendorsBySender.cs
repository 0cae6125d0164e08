using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Vendors;

/// <summary>A vendor whose e-mail address is a sender's, or shares its domain; <see cref="MergedIntoId"/> names its survivor when it was merged.</summary>
public sealed record VendorOfSender(Guid Id, string VendorCode, string Email, bool SameAddress, Guid? MergedIntoId);

/// <summary>
/// The vendors an e-mail sender belongs to, for the intake's trust rule and the keying prefill alike. Vendors' addresses
/// are sealed (issue #20): the sender's own address is found by its blind index; a vendor that merely shares the sender's
/// domain cannot be, since a blind index says nothing about part of an address, so the tenant's vendor addresses are
/// opened for that in memory only.
/// </summary>
public static class VendorsBySender
{
    /// <summary>Vendors with the sender's address first, then those of its domain (<c>@example.com</c>, exactly), each in code order.</summary>
    public static async Task<IReadOnlyList<VendorOfSender>> FindAsync(
        TenantUnitOfWork unitOfWork, PersonalDataKeys personalDataKeys, string senderAddress, CancellationToken cancellationToken)
    {
        var from = senderAddress.Trim().ToLowerInvariant();
        if (from.Length == 0)
        {
            return [];
        }

        var data = await personalDataKeys.DataAsync(cancellationToken);
        var emailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(from);
        var vendors = unitOfWork.Db.GetTable<SenderVendorRow>();
        var same = (await vendors.Where(vendor => vendor.EmailIndex == emailIndex).OrderBy(vendor => vendor.Code).ToListAsync(cancellationToken))
            .Select(vendor => Of(vendor, from, sameAddress: true))
            .ToList();
        var at = from.LastIndexOf('@');
        if (at < 0)
        {
            return same;
        }

        var domainSuffix = from[at..];
        var sameIds = same.Select(vendor => vendor.Id).ToHashSet();
        var ofDomain = (await vendors.Where(vendor => vendor.EmailEncrypted != null).OrderBy(vendor => vendor.Code).ToListAsync(cancellationToken))
            .Where(vendor => !sameIds.Contains(vendor.Id))
            .Select(vendor => Of(vendor, Open(data, unitOfWork.TenantId, vendor), sameAddress: false))
            .Where(vendor => vendor.Email.EndsWith(domainSuffix, StringComparison.Ordinal));
        return [.. same, .. ofDomain];
    }

    private static VendorOfSender Of(SenderVendorRow vendor, string email, bool sameAddress) =>
        new(vendor.Id, vendor.Code, email, sameAddress, vendor.MergedInto);

    private static string Open(PersonalData data, Guid tenantId, SenderVendorRow vendor) =>
        data.Open(vendor.EmailEncrypted, PersonalDataFields.OfVendor(tenantId, PersonalDataFields.VendorEmail, vendor.Code))?.Trim().ToLowerInvariant() ?? "";

    [Table("vendors")]
    private sealed class SenderVendorRow
    {
        [Column("id")] public Guid Id { get; set; }

        [Column("vendor_code")] public string Code { get; set; } = "";

        [Column("email_encrypted")] public byte[]? EmailEncrypted { get; set; }

        [Column("email_index")] public byte[]? EmailIndex { get; set; }

        [Column("merged_into")] public Guid? MergedInto { get; set; }
    }
}
