using Invisible.Data.Embedded;
using Invisible.Data.Migrations;
using Invisible.Data.Provisioning;
using Invisible.Data.Secrets;

namespace Invisible.Server.Database;

/// <summary>
/// Where the database comes from: <c>ConnectionStrings:Postgres</c> (+ <c>PostgresApp</c>) when configured, otherwise the
/// private cluster under the data directory. Either way migrations are applied before anything else starts.
/// </summary>
public sealed class DatabaseRuntime : IAsyncDisposable
{
    public const string EmbeddedDatabaseName = "invisible";

    private DatabaseRuntime(DatabaseConnectionStrings connectionStrings, EmbeddedPostgres? cluster)
    {
        ConnectionStrings = connectionStrings;
        Cluster = cluster;
    }

    public DatabaseConnectionStrings ConnectionStrings { get; }

    /// <summary>The embedded cluster, or null when the database is configured externally.</summary>
    public EmbeddedPostgres? Cluster { get; }

    public static async Task<DatabaseRuntime> StartAsync(
        IConfiguration configuration, string dataDirectory, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger<DatabaseRuntime>();
        var migrator = DatabaseMigrator.ForEmbeddedMigrations(loggers.CreateLogger<DatabaseMigrator>());
        var external = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(external))
        {
            var app = configuration.GetConnectionString("PostgresApp");
            if (string.IsNullOrWhiteSpace(app))
            {
                throw new InvalidOperationException(
                    "ConnectionStrings:Postgres is set but ConnectionStrings:PostgresApp is not. The application connects as a separate " +
                    "role that owns nothing and cannot bypass row-level security; set ConnectionStrings:PostgresApp to that role's connection string.");
            }

            await migrator.MigrateAsync(external, cancellationToken);
            await ApplicationRoleCheck.EnsureSafeAsync(app, cancellationToken);
            return new DatabaseRuntime(new DatabaseConnectionStrings(external, app), cluster: null);
        }

        var cluster = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = dataDirectory }, loggers.CreateLogger<EmbeddedPostgres>(), cancellationToken);
        try
        {
            var passwords = await DatabaseRolePasswords.FromSecretsFileAsync(DatabaseSecretsFile.InDataDirectory(dataDirectory), cancellationToken);
            var connectionStrings = await new DatabaseProvisioner(migrator, logger)
                .ProvisionAsync(cluster.SuperuserConnectionString(), EmbeddedDatabaseName, passwords, cancellationToken);
            return new DatabaseRuntime(connectionStrings, cluster);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}
