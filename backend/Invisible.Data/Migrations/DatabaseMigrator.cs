using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Invisible.Data.Migrations;

/// <summary>
/// Applies versioned SQL migrations in order, each in its own transaction, recorded in <c>schema_migrations</c> with its
/// SHA-256 checksum. Runs under a session advisory lock so several processes starting at once migrate exactly once.
/// Re-running is a no-op; a migration edited after it was applied stops everything with both checksums in the message.
/// </summary>
public sealed class DatabaseMigrator
{
    // An arbitrary constant shared by every Invisible process: the key of the migration advisory lock.
    private const long MigrationLockKey = 0x496E_7669_7369_626C; // "Invisibl"
    private static readonly TimeSpan MigrationCommandTimeout = TimeSpan.FromMinutes(10);

    private readonly ILogger logger;

    public DatabaseMigrator(IReadOnlyList<Migration> migrations, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        ArgumentNullException.ThrowIfNull(logger);
        Migrations = migrations.OrderBy(migration => migration.Version).ToList();
        this.logger = logger;
    }

    /// <summary>A migrator for the migrations compiled into Invisible.Data.</summary>
    public static DatabaseMigrator ForEmbeddedMigrations(ILogger logger) => new(Migration.Embedded, logger);

    public IReadOnlyList<Migration> Migrations { get; }

    /// <summary>Applies every pending migration as the role of <paramref name="ownerConnectionString"/>; returns those applied now.</summary>
    public async Task<IReadOnlyList<Migration>> MigrateAsync(string ownerConnectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(ownerConnectionString)
        {
            Pooling = false,
            CommandTimeout = (int)MigrationCommandTimeout.TotalSeconds,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@key)", new { key = MigrationLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                create table if not exists schema_migrations (
                    version    integer primary key,
                    name       text not null,
                    checksum   text not null,
                    applied_at timestamptz not null default now()
                )
                """, cancellationToken: cancellationToken));

            var pending = PendingAfterVerifying(await ReadAppliedAsync(connection, cancellationToken));
            foreach (var migration in pending)
            {
                await ApplyAsync(connection, migration, cancellationToken);
            }

            return pending;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_unlock(@key)", new { key = MigrationLockKey }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>Migrations of this build not yet applied to the database of <paramref name="connection"/> (all of them on an empty database).</summary>
    public async Task<IReadOnlyList<Migration>> GetPendingAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select to_regclass('schema_migrations') is not null", cancellationToken: cancellationToken));
        if (!exists)
        {
            return Migrations;
        }

        var appliedVersions = (await ReadAppliedAsync(connection, cancellationToken)).Select(applied => applied.Version).ToHashSet();
        return Migrations.Where(migration => !appliedVersions.Contains(migration.Version)).ToList();
    }

    private List<Migration> PendingAfterVerifying(IReadOnlyList<AppliedMigration> applied)
    {
        var known = Migrations.ToDictionary(migration => migration.Version);
        foreach (var record in applied)
        {
            if (!known.TryGetValue(record.Version, out var migration))
            {
                throw new MigrationException(
                    $"The database has migration {record.Version} ({record.Name}) applied, which this build does not contain; " +
                    "it was migrated by a newer version of Invisible.");
            }

            if (!string.Equals(record.Checksum, migration.Checksum, StringComparison.Ordinal))
            {
                throw new MigrationException(
                    $"Migration {migration.FileName} was changed after it was applied: the database recorded checksum {record.Checksum}, " +
                    $"the file now has checksum {migration.Checksum}. Restore the file and put the change into a new migration.");
            }
        }

        var appliedVersions = applied.Select(record => record.Version).ToHashSet();
        return Migrations.Where(migration => !appliedVersions.Contains(migration.Version)).ToList();
    }

    private async Task ApplyAsync(NpgsqlConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        logger.LogInformation("Applying database migration {Migration}", migration.FileName);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: transaction, cancellationToken: cancellationToken));
        }
        catch (PostgresException exception)
        {
            throw new MigrationException($"Migration {migration.FileName} failed: {exception.MessageText} (SQLSTATE {exception.SqlState}" +
                                         (exception.Position > 0 ? $", at character {exception.Position})" : ")"), exception);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "insert into schema_migrations (version, name, checksum) values (@Version, @Name, @Checksum)",
            new { migration.Version, migration.Name, migration.Checksum }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<AppliedMigration>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<AppliedMigration>(new CommandDefinition(
            "select version as Version, name as Name, checksum as Checksum from schema_migrations order by version",
            cancellationToken: cancellationToken))).AsList();

    private sealed record AppliedMigration(int Version, string Name, string Checksum);
}
