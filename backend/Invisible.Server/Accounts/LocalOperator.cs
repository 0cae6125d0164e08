using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;

namespace Invisible.Server.Accounts;

/// <summary>Tenant administration by the local command line, which acts in-process as the tenant's operator (<see cref="Caller.Operator"/>).</summary>
public static class LocalOperator
{
    /// <summary>A service-account key for machine imports (e.g. a remote <c>invisible import</c>), audited as the operator's.</summary>
    /// <exception cref="ArgumentException">No tenant has this slug.</exception>
    public static async Task<(ApiKeySummary ApiKey, string Key)> CreateApiKeyAsync(
        IServiceProvider services, string tenantSlug, string name, string role, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var tenant = await services.GetRequiredService<TenantDirectory>().FindBySlugAsync(tenantSlug, cancellationToken)
            ?? throw new ArgumentException($"No tenant has the slug '{tenantSlug}'.");
        var administration = ActivatorUtilities.CreateInstance<TenantAdministration>(services, services.GetService<TimeProvider>() ?? TimeProvider.System);
        return await administration.CreateApiKeyAsync(Caller.Operator(tenant.Id), name, role, expiresAt, requestId: null, cancellationToken);
    }
}
