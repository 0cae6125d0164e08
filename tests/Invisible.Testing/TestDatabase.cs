using LinqToDB.Data;
using Invisible.Data.Embedded;
using Invisible.Data.Provisioning;
using Invisible.Data.Tenancy;
using Npgsql;

namespace Invisible.Testing;

/// <summary>Both tenants of <see cref="TestDatabase.CreateTwoTenantsAsync"/>.</summary>
public sealed record TwoTenants(TenantRecord First, TenantRecord Second);

/// <summary>
/// A fresh, migrated database on the shared test cluster (<see cref="TestPostgres.CreateDatabaseAsync"/>), with the
/// product's own data sources: use <see cref="AppDataSource"/>/<see cref="Tenants"/> for what the product does at run time
/// (application role, RLS applies) and <see cref="OwnerConnectionString"/>/<see cref="SuperuserConnectionString"/> only to
/// arrange or inspect what the application role cannot. Disposing drops the database.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly EmbeddedPostgres cluster;

    internal TestDatabase(string name, string superuserConnectionString, DatabaseConnectionStrings connectionStrings, EmbeddedPostgres cluster)
    {
        this.cluster = cluster;
        Name = name;
        SuperuserConnectionString = superuserConnectionString;
        OwnerConnectionString = connectionStrings.OwnerConnectionString;
        AppConnectionString = connectionStrings.AppConnectionString;
        AppDataSource = NpgsqlDataSource.Create(AppConnectionString);
        Tenants = new TenantDatabase(AppDataSource);
        TenantDirectory = new TenantDirectory(AppDataSource);
        CrossTenantLookup = new CrossTenantLookup(AppDataSource);
    }

    public string Name { get; }

    /// <summary>The cluster superuser on this database (bypasses RLS; for arranging tampering and for catalog inspection).</summary>
    public string SuperuserConnectionString { get; }

    /// <summary>The schema owner (<c>invisible_owner</c>); subject to RLS too (FORCE).</summary>
    public string OwnerConnectionString { get; }

    /// <summary>The application role (<c>invisible_app</c>): what the product connects as.</summary>
    public string AppConnectionString { get; }

    public NpgsqlDataSource AppDataSource { get; }

    public TenantDatabase Tenants { get; }

    public TenantDirectory TenantDirectory { get; }

    public CrossTenantLookup CrossTenantLookup { get; }

    /// <summary>
    /// Creates a USD tenant through the product's tenant directory (with its default tolerances), named
    /// <paramref name="slug"/> or, when null, a unique <c>t-xxxxxxxx</c> so tests sharing the database never collide.
    /// </summary>
    public async Task<TenantRecord> CreateTenantAsync(string? slug = null, CancellationToken cancellationToken = default)
    {
        slug ??= UniqueSlug("t");
        await TenantDirectory.CreateAsync(slug, $"Tenant {slug}", "USD", cancellationToken);
        return (await TenantDirectory.FindBySlugAsync(slug, cancellationToken))!;
    }

    /// <summary>Two new tenants (<c>a-xxxxxxxx</c>, <c>b-xxxxxxxx</c>) for isolation tests; may be called by every test of a class.</summary>
    public async Task<TwoTenants> CreateTwoTenantsAsync(CancellationToken cancellationToken = default) =>
        new(await CreateTenantAsync(UniqueSlug("a"), cancellationToken), await CreateTenantAsync(UniqueSlug("b"), cancellationToken));

    private static string UniqueSlug(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    public async ValueTask DisposeAsync()
    {
        await AppDataSource.DisposeAsync();
        // Pooled owner connections (e.g. from tests using OwnerConnectionString) would block the drop; FORCE ends them.
        await using var connection = new NpgsqlConnection(cluster.SuperuserConnectionString());
        await connection.OpenAsync();
        await connection.Linq().ExecuteAsync($"drop database if exists \"{Name}\" with (force)", CancellationToken.None);
    }
}
