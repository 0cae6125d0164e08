using Invisible.Server.FieldEncryption;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Server.Errors;

namespace Invisible.Server.Matching;

/// <summary>The tenant default and every vendor override in force (withdrawn overrides left out).</summary>
public sealed record TolerancesView(ToleranceVersion TenantDefault, IReadOnlyList<ToleranceVersion> VendorOverrides);

/// <summary>Reads, changes (versioned, audited, then open exceptions re-evaluated) and previews a tenant's tolerances.</summary>
public sealed class ToleranceAdministration(TenantDatabase tenants, TimeProvider time, ILogger<ToleranceAdministration> logger, PersonalDataKeys personalDataKeys)
{
    public const string ErrorDomain = "matching.invisible.app";

    public async Task<TolerancesView> GetAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return View(await ToleranceStore.CurrentAsync(unitOfWork, cancellationToken));
    }

    /// <summary>
    /// Adds a version of the default (<paramref name="vendorCode"/> null) or of a vendor's override, or withdraws an
    /// override, and re-evaluates the invoices with an open exception under it, in one transaction.
    /// </summary>
    public async Task<TolerancesView> SetAsync(
        Caller caller, string? vendorCode, ToleranceSettings? settings, bool removeOverride, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, cancellationToken);
        var redecision = await InvoiceRedecision.BeginAsync(unitOfWork, time, await personalDataKeys.DataAsync(cancellationToken), cancellationToken);
        var current = await ToleranceStore.CurrentAsync(unitOfWork, cancellationToken);
        Guid? vendorId = vendorCode is null ? null : await ToleranceStore.FindVendorAsync(unitOfWork, vendorCode, cancellationToken) ?? throw VendorNotFound(vendorCode);
        var before = current.SingleOrDefault(version => version.VendorCode == vendorCode && !version.Removed);

        ToleranceVersion added;
        if (removeOverride)
        {
            if (vendorCode is null || before is null)
            {
                throw DomainException.WithReason(
                    ErrorKind.FailedPrecondition, vendorCode is null ? "The tenant default cannot be removed; change it instead." : $"{vendorCode} has no override to remove.",
                    "NO_OVERRIDE", ErrorDomain);
            }

            added = await ToleranceStore.AddVersionAsync(
                unitOfWork, vendorId, new ToleranceSettings(before.PricePercent, before.PriceAbsolute, before.QuantityPercent, before.TotalAbsolute),
                removed: true, caller.AuditActor, cancellationToken);
        }
        else
        {
            added = await ToleranceStore.AddVersionAsync(
                unitOfWork, vendorId, settings ?? throw new ArgumentNullException(nameof(settings)), removed: false, caller.AuditActor, cancellationToken);
        }

        var openExceptionInvoices = await OpenExceptionInvoicesAsync(unitOfWork, cancellationToken);
        var reevaluated = await redecision.ReevaluateAsync(caller.UserId.ToString(), new HashSet<Guid>(), openExceptionInvoices.Contains, cancellationToken);
        await redecision.RecordAsync(
            new RedecisionAudit(
                caller.AuditActor, removeOverride ? "tolerances.override_removed" : "tolerances.changed", "tolerance", added.Id.ToString(),
                Before: before is null ? null : Describe(before),
                After: new { tolerance = Describe(added) },
                requestId),
            cause: "tolerance_changed",
            alsoChanged: [],
            cancellationToken);
        var view = View(await ToleranceStore.CurrentAsync(unitOfWork, cancellationToken));
        await unitOfWork.CommitAsync(cancellationToken);
        logger.LogInformation(
            "Tolerances of tenant {TenantId} ({Scope}) now at version {Version}; {Reevaluated} open exception(s) re-decided",
            caller.TenantId, vendorCode ?? "default", added.Version, reevaluated.Count);
        return view;
    }

    /// <summary>What the proposed tolerances would do to the queue; changes nothing.</summary>
    public async Task<TolerancePreviewOutcome> PreviewAsync(Guid tenantId, string? vendorCode, ToleranceSettings settings, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        if (vendorCode is not null && await ToleranceStore.FindVendorAsync(unitOfWork, vendorCode, cancellationToken) is null)
        {
            throw VendorNotFound(vendorCode);
        }

        var prepared = await InvoiceEvaluation.PrepareAsync(unitOfWork, await personalDataKeys.DataAsync(cancellationToken), EvaluationScope.DecidedInvoices, cancellationToken);
        var current = prepared.Tenant.Tolerances;
        var proposed = vendorCode is null
            ? current with { Version = current.Version + 1, TenantDefault = settings.ToRule() }
            : current with { VendorOverrides = new Dictionary<string, ToleranceRule>(current.VendorOverrides, StringComparer.Ordinal) { [vendorCode] = settings.ToRule() } };
        var decisions = prepared.Decide(proposed).Invoices;
        var open = (await OpenExceptionInvoicesAsync(unitOfWork, cancellationToken)).Select(id => id.ToString()).ToHashSet(StringComparer.Ordinal);
        return TolerancePreview.Compare(
            decisions,
            open,
            prepared.Statuses.ToDictionary(entry => entry.Key.ToString(), entry => entry.Value, StringComparer.Ordinal),
            prepared.Snapshot.Invoices.ToDictionary(invoice => invoice.Id, invoice => new Money(invoice.InvoiceTotal, invoice.Currency), StringComparer.Ordinal));
    }

    private static async Task<HashSet<Guid>> OpenExceptionInvoicesAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        (await unitOfWork.Db.GetTable<ExceptionTableRow>()
            .Where(exception => exception.Status == "open" || exception.Status == "in_review")
            .Select(exception => exception.InvoiceId)
            .ToListAsync(cancellationToken)).ToHashSet();

    private static TolerancesView View(IReadOnlyList<ToleranceVersion> current) => new(
        current.Single(version => version.VendorCode is null),
        current.Where(version => version.VendorCode is not null && !version.Removed).OrderBy(version => version.VendorCode, StringComparer.Ordinal).ToList());

    private static object Describe(ToleranceVersion version) => new
    {
        vendorCode = version.VendorCode,
        version = version.Version,
        pricePercent = version.PricePercent,
        priceAbsolute = version.PriceAbsolute,
        quantityPercent = version.QuantityPercent,
        totalAbsolute = version.TotalAbsolute,
        removed = version.Removed,
    };

    private static DomainException VendorNotFound(string vendorCode) =>
        DomainException.WithReason(ErrorKind.NotFound, $"No vendor '{vendorCode}' in your master data.", "VENDOR_NOT_FOUND", ErrorDomain);
}
