using Invisible.Data.Access;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
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
        await using var db = ProductData.On(connection);
        // SQL: advisory locks are server functions with no LINQ form.
        await db.ExecuteAsync("select pg_advisory_lock(@key)", new { key = MigrationLockKey }, cancellationToken);
        try
        {
            // SQL: DDL of the migrations table, before any mapping can be used.
            await db.ExecuteAsync(
                """
                create table if not exists schema_migrations (
                    version    integer primary key,
                    name       text not null,
                    checksum   text not null,
                    applied_at timestamptz not null default now()
                )
                """, cancellationToken);

            var pending = PendingAfterVerifying(await ReadAppliedAsync(db, cancellationToken));
            foreach (var migration in pending)
            {
                await ApplyAsync(connection, migration, cancellationToken);
            }

            return pending;
        }
        finally
        {
            // SQL: advisory locks are server functions with no LINQ form.
            await db.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = MigrationLockKey }, CancellationToken.None);
        }
    }

    /// <summary>Migrations of this build not yet applied to the database of <paramref name="connection"/> (all of them on an empty database).</summary>
    public async Task<IReadOnlyList<Migration>> GetPendingAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var db = ProductData.On(connection);
        // SQL: to_regclass asks the catalog whether the migrations table exists yet.
        var exists = await db.ExecuteAsync<bool>(
            "select to_regclass('schema_migrations') is not null", cancellationToken);
        if (!exists)
        {
            return Migrations;
        }

        var appliedVersions = (await ReadAppliedAsync(db, cancellationToken)).Select(applied => applied.Version).ToHashSet();
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
        await using var db = ProductData.On(transaction);
        try
        {
            // SQL: a migration is SQL text by definition.
            await db.ExecuteAsync(migration.Sql, cancellationToken);
        }
        catch (PostgresException exception)
        {
            throw new MigrationException($"Migration {migration.FileName} failed: {exception.MessageText} (SQLSTATE {exception.SqlState}" +
                                         (exception.Position > 0 ? $", at character {exception.Position})" : ")"), exception);
        }

        await db.InsertAsync(new AppliedMigration { Version = migration.Version, Name = migration.Name, Checksum = migration.Checksum }, token: cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<AppliedMigration>> ReadAppliedAsync(DataConnection db, CancellationToken cancellationToken) =>
        await db.GetTable<AppliedMigration>().OrderBy(applied => applied.Version).ToListAsync(cancellationToken);

    [Table("schema_migrations")]
    private sealed class AppliedMigration
    {
        [Column("version"), PrimaryKey] public int Version { get; init; }

        [Column("name")] public string Name { get; init; } = "";

        [Column("checksum")] public string Checksum { get; init; } = "";
    }
}
