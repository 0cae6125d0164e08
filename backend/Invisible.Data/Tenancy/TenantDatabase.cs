using Npgsql;

namespace Invisible.Data.Tenancy;

/// <summary>The entry point for tenant data: opens a <see cref="TenantUnitOfWork"/> on the application role's data source.</summary>
public sealed class TenantDatabase(NpgsqlDataSource appDataSource)
{
    /// <example><code>
    /// await using var uow = await tenantDatabase.BeginAsync(tenantId, ct);
    /// await uow.Db.InsertAsync(new VendorRow { TenantId = uow.TenantId, ... }, token: ct);
    /// await uow.CommitAsync(ct);
    /// </code></example>
    public Task<TenantUnitOfWork> BeginAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        if (tenantId == Guid.Empty)
        {
            throw new ArgumentException("A tenant unit of work needs a tenant id; Guid.Empty is not one.", nameof(tenantId));
        }

        return TenantUnitOfWork.BeginAsync(appDataSource, tenantId, cancellationToken);
    }

    /// <summary>
    /// Creates a tenant and opens a unit of work on it in one transaction, so the tenant and its first rows (its administrator,
    /// their audit entries) are committed together or not at all.
    /// </summary>
    public Task<TenantUnitOfWork> BeginNewTenantAsync(string slug, string displayName, string defaultCurrency, CancellationToken cancellationToken) =>
        TenantUnitOfWork.BeginAsync(
            appDataSource,
            (connection, transaction, token) => TenantDirectory.CreateAsync(connection, transaction, slug, displayName, defaultCurrency, token),
            cancellationToken);
}
