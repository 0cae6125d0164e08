namespace Invisible.Data.Imports;

/// <summary>
/// Seals a vendor's tax id and e-mail address in .NET before the row is staged (issue #20): the database, the staging
/// table included, only ever receives the sealed values and the blind indexes they are matched and compared by.
/// </summary>
public interface IVendorSealing
{
    /// <summary>The values as stored, bound to (tenant, field, vendor code); nulls stay null.</summary>
    SealedVendor Seal(Guid tenantId, string vendorCode, string? taxId, string? email);
}

public readonly record struct SealedVendor(byte[]? TaxIdEncrypted, byte[]? TaxIdIndex, byte[]? EmailEncrypted, byte[]? EmailIndex);
