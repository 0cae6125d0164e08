using Invisible.Data.Access;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Data.Tenancy;

/// <summary>
/// One transaction on behalf of one tenant: <c>app.tenant_id</c> is set transaction-locally, so row-level security shows and
/// accepts only that tenant's rows. Disposing without <see cref="CommitAsync"/> rolls back.
/// </summary>
public sealed class TenantUnitOfWork : IAsyncDisposable
{
    private TenantUnitOfWork(Guid tenantId, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        TenantId = tenantId;
        Connection = connection;
        Transaction = transaction;
    }

    public Guid TenantId { get; }

    public NpgsqlConnection Connection { get; }

    /// <summary>The transaction every command of this unit of work runs in (linq2db's <see cref="Db"/> already uses it).</summary>
    public NpgsqlTransaction Transaction { get; }

    private DataConnection? db;

    /// <summary>linq2db on this unit of work's connection and transaction, so its queries see only this tenant's rows.</summary>
    public DataConnection Db => db ??= ProductData.On(Transaction);

    internal static Task<TenantUnitOfWork> BeginAsync(NpgsqlDataSource dataSource, Guid tenantId, CancellationToken cancellationToken) =>
        BeginAsync(dataSource, (_, _, _) => Task.FromResult(tenantId), cancellationToken);

    /// <param name="resolveTenant">Runs first in the transaction and yields the tenant (e.g. by creating it), so it commits with the rest.</param>
    internal static async Task<TenantUnitOfWork> BeginAsync(
        NpgsqlDataSource dataSource, Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<Guid>> resolveTenant,
        CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var tenantId = await resolveTenant(connection, transaction, cancellationToken);
            // SQL: set_config sets app.tenant_id for row-level security, before linq2db is attached to the transaction.
            await using var setTenant = new NpgsqlCommand("select set_config('app.tenant_id', @tenantId, true)", connection, transaction);
            setTenant.Parameters.AddWithValue("tenantId", tenantId.ToString());
            await setTenant.ExecuteNonQueryAsync(cancellationToken);
            return new TenantUnitOfWork(tenantId, connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (db is not null)
        {
            await db.DisposeAsync();
        }

        // Disposing an uncommitted transaction rolls it back; the connection returns to the pool with app.tenant_id reset.
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
