using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Data.Retention;

/// <summary>A legal hold: on the whole tenant when <see cref="VendorCode"/> is null, else on that vendor's documents.</summary>
public sealed record LegalHold(Guid Id, string? VendorCode, string Reason, string PlacedBy, DateTimeOffset PlacedAt);

/// <summary>A tenant's retention policy (the defaults when it never set one) and who last changed it.</summary>
public sealed record TenantRetention(RetentionPolicy Policy, bool IsDefault, string? ForcedBy, string? UpdatedBy, DateTimeOffset? UpdatedAt);

/// <summary>Why a retention setting was refused; the message says what to change.</summary>
public sealed class RetentionSettingException(string message) : Exception(message);

/// <summary>
/// Reads and changes a tenant's retention policy and legal holds, in the tenant's unit of work (application role, row-level
/// security), each change recorded in the tenant's audit log in the same transaction.
/// </summary>
public static class RetentionSettings
{
    [Table("retention_policies")]
    internal sealed class PolicyRow
    {
        [Column("tenant_id"), PrimaryKey] public Guid TenantId { get; set; }

        [Column("financial_years")] public int FinancialYears { get; set; }

        [Column("audit_years")] public int AuditYears { get; set; }

        [Column("fiscal_year_end_month")] public int FiscalYearEndMonth { get; set; }

        [Column("fiscal_year_end_day")] public int FiscalYearEndDay { get; set; }

        [Column("forced_by")] public string? ForcedBy { get; set; }

        [Column("updated_by")] public string UpdatedBy { get; set; } = "";

        [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
    }

    [Table("legal_holds")]
    internal sealed class HoldRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("tenant_id")] public Guid TenantId { get; set; }

        [Column("vendor_id")] public Guid? VendorId { get; set; }

        [Column("reason")] public string Reason { get; set; } = "";

        [Column("placed_by")] public string PlacedBy { get; set; } = "";

        [Column("placed_at")] public DateTimeOffset PlacedAt { get; set; }
    }

    [Table("vendors")]
    internal sealed class VendorRow
    {
        [Column("id")] public Guid Id { get; set; }

        [Column("vendor_code")] public string VendorCode { get; set; } = "";
    }

    public static async Task<TenantRetention> GetAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var row = await unitOfWork.Db.GetTable<PolicyRow>().FirstOrDefaultAsync(cancellationToken);
        return row is null
            ? new TenantRetention(RetentionPolicy.Default, IsDefault: true, null, null, null)
            : new TenantRetention(
                new RetentionPolicy(row.FinancialYears, row.AuditYears, row.FiscalYearEndMonth, row.FiscalYearEndDay),
                IsDefault: false, row.ForcedBy, row.UpdatedBy, row.UpdatedAt);
    }

    /// <summary>Sets the policy; one below the defaults is refused unless <paramref name="force"/>, and then records the actor as who forced it.</summary>
    /// <exception cref="RetentionSettingException">The policy is invalid, or below the defaults without <paramref name="force"/>.</exception>
    public static async Task<TenantRetention> SetAsync(
        TenantUnitOfWork unitOfWork, RetentionPolicy policy, bool force, string actor, CancellationToken cancellationToken)
    {
        if (policy.Problems() is { Count: > 0 } problems)
        {
            throw new RetentionSettingException(string.Join(" ", problems));
        }

        if (policy.IsBelowDefaults && !force)
        {
            throw new RetentionSettingException(
                $"Keeping financial records {policy.FinancialYears} and audit entries {policy.AuditYears} years is shorter than the defaults " +
                $"({RetentionPolicy.DefaultFinancialYears} and {RetentionPolicy.DefaultAuditYears} years after the fiscal year). " +
                "Check the tenant's legal obligations; --force sets it anyway and records who did.");
        }

        var before = await GetAsync(unitOfWork, cancellationToken);
        var row = new PolicyRow
        {
            TenantId = unitOfWork.TenantId,
            FinancialYears = policy.FinancialYears,
            AuditYears = policy.AuditYears,
            FiscalYearEndMonth = policy.FiscalYearEndMonth,
            FiscalYearEndDay = policy.FiscalYearEndDay,
            ForcedBy = policy.IsBelowDefaults ? actor : null,
            UpdatedBy = actor,
            UpdatedAt = DateTimeOffset.UtcNow,
        };
        await unitOfWork.Db.InsertOrReplaceAsync(row, token: cancellationToken);
        await AuditLog.AppendAsync(
            unitOfWork, actor, "retention.policy_set", "retention_policy", unitOfWork.TenantId.ToString(),
            Describe(before.Policy), Describe(policy) with { Forced = policy.IsBelowDefaults }, null, cancellationToken);
        return await GetAsync(unitOfWork, cancellationToken);
    }

    public static async Task<IReadOnlyList<LegalHold>> ListHoldsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var holds = from hold in unitOfWork.Db.GetTable<HoldRow>()
                    from vendor in unitOfWork.Db.GetTable<VendorRow>().LeftJoin(vendor => vendor.Id == hold.VendorId)
                    orderby hold.PlacedAt
                    select new LegalHold(hold.Id, vendor.VendorCode, hold.Reason, hold.PlacedBy, hold.PlacedAt);
        return await holds.ToListAsync(cancellationToken);
    }

    /// <summary>Places a hold on the tenant (<paramref name="vendorCode"/> null) or on one vendor.</summary>
    /// <exception cref="RetentionSettingException">No reason, an unknown vendor, or the same scope already held.</exception>
    public static async Task<LegalHold> AddHoldAsync(
        TenantUnitOfWork unitOfWork, string? vendorCode, string reason, string actor, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > 500)
        {
            throw new RetentionSettingException("A legal hold needs a reason (1 to 500 characters): who asked for it and why.");
        }

        var vendorId = await VendorIdAsync(unitOfWork, vendorCode, cancellationToken);
        if (await unitOfWork.Db.GetTable<HoldRow>().AnyAsync(hold => hold.VendorId == vendorId, cancellationToken))
        {
            throw new RetentionSettingException(vendorCode is null ? "The tenant is already on legal hold." : $"Vendor {vendorCode} is already on legal hold.");
        }

        var row = new HoldRow
        {
            Id = Guid.NewGuid(), TenantId = unitOfWork.TenantId, VendorId = vendorId, Reason = reason.Trim(), PlacedBy = actor, PlacedAt = DateTimeOffset.UtcNow,
        };
        await unitOfWork.Db.InsertAsync(row, token: cancellationToken);
        await AuditLog.AppendAsync(
            unitOfWork, actor, "retention.hold_placed", "legal_hold", row.Id.ToString(), null, new { Vendor = vendorCode, row.Reason }, null, cancellationToken);
        return new LegalHold(row.Id, vendorCode, row.Reason, row.PlacedBy, row.PlacedAt);
    }

    /// <summary>Lifts the hold on the tenant (<paramref name="vendorCode"/> null) or on one vendor; the reason is recorded.</summary>
    /// <exception cref="RetentionSettingException">No reason, or no such hold.</exception>
    public static async Task RemoveHoldAsync(
        TenantUnitOfWork unitOfWork, string? vendorCode, string reason, string actor, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new RetentionSettingException("Lifting a legal hold needs a reason: who allowed it and why.");
        }

        var vendorId = await VendorIdAsync(unitOfWork, vendorCode, cancellationToken);
        var hold = await unitOfWork.Db.GetTable<HoldRow>().FirstOrDefaultAsync(hold => hold.VendorId == vendorId, cancellationToken)
                   ?? throw new RetentionSettingException(vendorCode is null ? "The tenant is not on legal hold." : $"Vendor {vendorCode} is not on legal hold.");
        await unitOfWork.Db.GetTable<HoldRow>().Where(row => row.Id == hold.Id).DeleteAsync(cancellationToken);
        await AuditLog.AppendAsync(
            unitOfWork, actor, "retention.hold_lifted", "legal_hold", hold.Id.ToString(),
            new { Vendor = vendorCode, hold.Reason, hold.PlacedBy, hold.PlacedAt }, new { Reason = reason.Trim() }, null, cancellationToken);
    }

    private static async Task<Guid?> VendorIdAsync(TenantUnitOfWork unitOfWork, string? vendorCode, CancellationToken cancellationToken)
    {
        if (vendorCode is null)
        {
            return null;
        }

        var vendor = await unitOfWork.Db.GetTable<VendorRow>().FirstOrDefaultAsync(vendor => vendor.VendorCode == vendorCode, cancellationToken);
        return vendor?.Id ?? throw new RetentionSettingException($"The tenant has no vendor {vendorCode}.");
    }

    private sealed record PolicyDescription(int FinancialYears, int AuditYears, string FiscalYearEnd, bool Forced);

    private static PolicyDescription Describe(RetentionPolicy policy) =>
        new(policy.FinancialYears, policy.AuditYears, $"{policy.FiscalYearEndMonth:D2}-{policy.FiscalYearEndDay:D2}", false);
}
