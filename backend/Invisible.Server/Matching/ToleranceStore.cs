using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Matching;

namespace Invisible.Server.Matching;

/// <summary>One version of the tenant default (<see cref="VendorCode"/> null) or of a vendor override.</summary>
/// <param name="PriceAbsolute">Per-unit limit in the invoice currency; null when only the percentage applies.</param>
/// <param name="Removed">A vendor override withdrawn at this version: the vendor falls back to the tenant default.</param>
public sealed record ToleranceVersion(
    Guid Id,
    string? VendorCode,
    int Version,
    decimal PricePercent,
    decimal? PriceAbsolute,
    decimal QuantityPercent,
    decimal TotalAbsolute,
    bool Removed,
    string? ChangedBy,
    DateTime ChangedAt)
{
    public ToleranceRule ToRule() => new(PricePercent, PriceAbsolute, QuantityPercent, TotalAbsolute);
}

/// <summary>The settings a reviewer proposes or sets (FORMATS section 2 tolerances plus the absolute unit-price limit).</summary>
public sealed record ToleranceSettings(decimal PricePercent, decimal? PriceAbsolute, decimal QuantityPercent, decimal TotalAbsolute)
{
    public ToleranceRule ToRule() => new(PricePercent, PriceAbsolute, QuantityPercent, TotalAbsolute);
}

/// <summary>
/// Versioned tolerances (append-only: a change adds a version; decisions keep the id of the version they used). Reads the
/// absolute unit-price limit and withdrawn overrides of migration 0004 on top of what the snapshot loader knows.
/// </summary>
public static class ToleranceStore
{
    private const string CurrentSql = """
        select distinct on (t.vendor_id)
               t.id as Id, v.vendor_code as VendorCode, t.version as Version, t.price_tolerance_percent as PricePercent,
               t.price_tolerance_absolute as PriceAbsolute, t.quantity_tolerance_percent as QuantityPercent,
               t.total_tolerance as TotalAbsolute, t.removed as Removed, t.created_by as ChangedBy, t.created_at as ChangedAt
        from tolerances t left join vendors v on v.id = t.vendor_id
        order by t.vendor_id, t.version desc
        """;

    /// <summary>The newest version of the tenant default and of every vendor override (withdrawn ones included).</summary>
    public static async Task<IReadOnlyList<ToleranceVersion>> CurrentAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        // SQL: CurrentSql keeps the newest version per vendor with 'distinct on'.
        (await unitOfWork.Db.QueryToListAsync<ToleranceVersion>(
            CurrentSql, cancellationToken)).ToList();

    /// <summary>The tenant with its current tolerances as the engine applies them: absolute limits included, withdrawn overrides left out.</summary>
    public static LoadedTenant WithCurrent(LoadedTenant tenant, IReadOnlyList<ToleranceVersion> current)
    {
        var tenantDefault = current.Single(version => version.VendorCode is null);
        var overrides = current.Where(version => version.VendorCode is not null && !version.Removed).ToList();
        return tenant with
        {
            Tolerances = new Tolerances(
                tenantDefault.Version,
                tenantDefault.ToRule(),
                overrides.ToDictionary(version => version.VendorCode!, version => version.ToRule(), StringComparer.Ordinal)),
            DefaultToleranceId = tenantDefault.Id,
            OverrideToleranceIds = overrides.ToDictionary(version => version.VendorCode!, version => version.Id, StringComparer.Ordinal),
        };
    }

    /// <summary>The master vendor's id, or null when the tenant has no vendor with this code.</summary>
    public static Task<Guid?> FindVendorAsync(TenantUnitOfWork unitOfWork, string vendorCode, CancellationToken cancellationToken) =>
        unitOfWork.Db.GetTable<VendorCodeRow>()
            .Where(vendor => vendor.Code == vendorCode)
            .Select(vendor => (Guid?)vendor.Id)
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>Adds the next version of the default (<paramref name="vendorId"/> null) or of a vendor's override.</summary>
    public static async Task<ToleranceVersion> AddVersionAsync(
        TenantUnitOfWork unitOfWork, Guid? vendorId, ToleranceSettings settings, bool removed, string createdBy, CancellationToken cancellationToken) =>
        // SQL: the next version number is computed in the insert (insert ... select max()+1 returning), in one statement.
        (await unitOfWork.Db.QueryToListAsync<ToleranceVersion>(
            """
            with added as (
                insert into tolerances (tenant_id, vendor_id, version, price_tolerance_percent, price_tolerance_absolute, quantity_tolerance_percent,
                                        total_tolerance, removed, created_by)
                select @tenantId, @vendorId,
                       coalesce((select max(version) from tolerances where vendor_id is not distinct from @vendorId), 0) + 1,
                       @pricePercent, @priceAbsolute, @quantityPercent, @totalAbsolute, @removed, @createdBy
                returning *
            )
            select a.id as Id, v.vendor_code as VendorCode, a.version as Version, a.price_tolerance_percent as PricePercent,
                   a.price_tolerance_absolute as PriceAbsolute, a.quantity_tolerance_percent as QuantityPercent,
                   a.total_tolerance as TotalAbsolute, a.removed as Removed, a.created_by as ChangedBy, a.created_at as ChangedAt
            from added a left join vendors v on v.id = a.vendor_id
            """, new
            {
                tenantId = unitOfWork.TenantId,
                vendorId,
                pricePercent = settings.PricePercent,
                priceAbsolute = settings.PriceAbsolute,
                quantityPercent = settings.QuantityPercent,
                totalAbsolute = settings.TotalAbsolute,
                removed,
                createdBy,
            }, cancellationToken)).Single();

    /// <summary>A master vendor's id by its code (row-level security keeps it to the tenant).</summary>
    [Table("vendors")]
    private sealed class VendorCodeRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; init; }

        [Column("vendor_code")] public string Code { get; init; } = "";
    }
}
