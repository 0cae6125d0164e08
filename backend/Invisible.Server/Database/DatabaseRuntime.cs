using Invisible.Data.Backups;
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

        var backups = new EmbeddedBackups(
            dataDirectory, configuration.GetSection(BackupOptions.SectionName).Get<BackupOptions>() ?? new BackupOptions(), loggers.CreateLogger<EmbeddedBackups>());
        var archiving = await backups.PrepareArchivingAsync(Path.Combine(dataDirectory, "postgres"), cancellationToken);
        var cluster = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = dataDirectory, Archiving = archiving }, loggers.CreateLogger<EmbeddedPostgres>(), cancellationToken);
        try
        {
            var passwords = await DatabaseRolePasswords.FromSecretsFileAsync(DatabaseSecretsFile.InDataDirectory(dataDirectory), cancellationToken);
            var connectionStrings = await new DatabaseProvisioner(migrator, logger)
                .ProvisionAsync(cluster.SuperuserConnectionString(), EmbeddedDatabaseName, passwords, cancellationToken);
            if (archiving is not null && cluster.OwnsServer)
            {
                await EnsureBackupRepositoryAsync(backups, cluster, logger, cancellationToken);
            }

            return new DatabaseRuntime(connectionStrings, cluster);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Until the repository's stanza exists every archived segment is refused (and kept in pg_wal, retried): a failure here is
    /// logged, not fatal, so a full or unreachable repository never stops the product; <c>invisible health</c> reports the archive's age.
    /// </summary>
    private static async Task EnsureBackupRepositoryAsync(EmbeddedBackups backups, EmbeddedPostgres cluster, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await backups.EnsureRepositoryAsync(cluster, cancellationToken);
        }
        catch (InvalidOperationException exception)
        {
            logger.LogError(exception, "The backup repository {Repository} could not be prepared; WAL is kept in the cluster until it can", backups.RepositoryPath);
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
