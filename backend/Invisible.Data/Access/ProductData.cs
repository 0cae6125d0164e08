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
}
