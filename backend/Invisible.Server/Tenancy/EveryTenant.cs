using Invisible.Data.Tenancy;

namespace Invisible.Server.Tenancy;

/// <summary>Start-up sweeps that visit every tenant (re-sealing secrets, wrapping recovery codes) run tenants one by one.</summary>
public static class EveryTenant
{
    /// <summary>
    /// Runs <paramref name="work"/> for each tenant in turn. A tenant whose work fails is logged with <paramref name="what"/>
    /// and the others are still done; returns the sum of what the work returned.
    /// </summary>
    public static async Task<int> SumAsync(
        TenantDirectory tenants, Func<Guid, CancellationToken, Task<int>> work, ILogger logger, string what, CancellationToken cancellationToken)
    {
        var total = 0;
        foreach (var tenant in await tenants.ListAsync(cancellationToken))
        {
            try
            {
                total += await work(tenant.Id, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "{Work} of tenant {Tenant} failed", what, tenant.Slug);
            }
        }

        return total;
    }
}
