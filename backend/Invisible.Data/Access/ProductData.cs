using LinqToDB;
using LinqToDB.Data;
using LinqToDB.DataProvider;
using LinqToDB.DataProvider.PostgreSQL;
using LinqToDB.Mapping;
using Npgsql;

namespace Invisible.Data.Access;

/// <summary>
/// linq2db over connections the product already opened: a <see cref="DataConnection"/> never opens its own, so the tenant's
/// transaction (and its <c>app.tenant_id</c>) or the migrator's session is the one every LINQ query and bulk copy runs in.
/// </summary>
public static class ProductData
{
    public static IDataProvider Provider { get; } = PostgreSQLTools.GetDataProvider(PostgreSQLVersion.v15);

    /// <summary>Table and column mappings of the product's schema (attributes on the row classes of each area).</summary>
    public static MappingSchema Mappings { get; } = new("Invisible");

    /// <summary>A linq2db context on <paramref name="transaction"/>; disposing it leaves the transaction and its connection open.</summary>
    public static DataConnection On(NpgsqlTransaction transaction) =>
        new(new DataOptions().UseTransaction(Provider, transaction).UseMappingSchema(Mappings));

    /// <summary>A linq2db context on an open connection outside a transaction; disposing it leaves the connection open.</summary>
    public static DataConnection On(NpgsqlConnection connection) =>
        new(new DataOptions().UseConnection(Provider, connection, disposeConnection: false).UseMappingSchema(Mappings));

    /// <summary>A linq2db context on <paramref name="connection"/>, inside <paramref name="transaction"/> when there is one.</summary>
    public static DataConnection On(NpgsqlConnection connection, NpgsqlTransaction? transaction) =>
        transaction is null ? On(connection) : On(transaction);

    /// <summary>
    /// Runs <paramref name="run"/> with its commands' timeout set to <paramref name="seconds"/> (0: none), then restores the
    /// previous one: long merges and checks must not inherit the 30 s default, the rest of the unit of work must.
    /// </summary>
    public static async Task<T> WithCommandTimeout<T>(this DataConnection db, int seconds, Func<DataConnection, Task<T>> run)
    {
        var previous = db.CommandTimeout;
        db.CommandTimeout = seconds;
        try
        {
            return await run(db);
        }
        finally
        {
            // A negative timeout means "the provider's default", which is restored by resetting rather than by assignment.
            if (previous < 0)
            {
                db.ResetCommandTimeout();
            }
            else
            {
                db.CommandTimeout = previous;
            }
        }
    }
}
