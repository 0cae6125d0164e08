using LinqToDB.Data;
using Invisible.Data.Migrations;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Data.Tests;

public sealed class MigrationTests
{
    private static readonly Migration SchemaV1 = Migration.Embedded[0];

    [Fact]
    public void The_embedded_migrations_start_with_schema_v1_named_after_its_file()
    {
        Assert.Equal("0001_schema_v1.sql", SchemaV1.FileName);
        Assert.Equal(64, SchemaV1.Checksum.Length);
        Assert.Equal(Migration.Embedded.OrderBy(m => m.Version).Select(m => m.Version), Migration.Embedded.Select(m => m.Version));
    }

    [Fact]
    public void The_checksum_ignores_line_ending_style()
    {
        Assert.Equal(new Migration(7, "x", "select 1;\nselect 2;\n").Checksum, new Migration(7, "x", "select 1;\r\nselect 2;\r\n").Checksum);
        Assert.NotEqual(new Migration(7, "x", "select 1;").Checksum, new Migration(7, "x", "select 2;").Checksum);
    }

    [Fact]
    public async Task Re_running_the_migrations_changes_nothing()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var before = await AppliedAsync(database);

        var applied = await DatabaseMigrator.ForEmbeddedMigrations(NullLogger.Instance).MigrateAsync(database.OwnerConnectionString, CancellationToken.None);

        Assert.Empty(applied);
        Assert.Equal(before, await AppliedAsync(database));
        Assert.Equal(Migration.Embedded.Select(m => (m.Version, m.Checksum)), before);
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_is_refused_naming_the_file_and_both_checksums()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var edited = new Migration(SchemaV1.Version, SchemaV1.Name, SchemaV1.Sql + "\n-- a later edit\n");

        var refused = await Assert.ThrowsAsync<MigrationException>(
            () => new DatabaseMigrator([edited], NullLogger.Instance).MigrateAsync(database.OwnerConnectionString, CancellationToken.None));

        Assert.Contains("0001_schema_v1.sql", refused.Message, StringComparison.Ordinal);
        Assert.Contains(SchemaV1.Checksum, refused.Message, StringComparison.Ordinal);
        Assert.Contains(edited.Checksum, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_migration_is_listed_as_pending_then_applied_once()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var probe = new Migration(NextVersion, "add_probe", "create table migration_probe (id int primary key);");
        var migrator = new DatabaseMigrator([.. Migration.Embedded, probe], NullLogger.Instance);
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        await connection.OpenAsync();

        Assert.Equal([probe.FileName], (await migrator.GetPendingAsync(connection, CancellationToken.None)).Select(m => m.FileName));

        // Two processes starting at once: the advisory lock lets exactly one of them apply the migration.
        var results = await Task.WhenAll(
            migrator.MigrateAsync(database.OwnerConnectionString, CancellationToken.None),
            migrator.MigrateAsync(database.OwnerConnectionString, CancellationToken.None));

        Assert.Equal([probe.FileName], results.SelectMany(applied => applied).Select(m => m.FileName));
        Assert.Empty(await migrator.GetPendingAsync(connection, CancellationToken.None));
        Assert.Equal(0, await connection.Linq().ExecuteAsync<int>("select count(*) from migration_probe", CancellationToken.None));
    }

    [Fact]
    public async Task A_failing_migration_is_rolled_back_and_reported_with_its_file_name()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var broken = new Migration(NextVersion, "broken", "create table half_done (id int); select * from no_such_table;");

        var failure = await Assert.ThrowsAsync<MigrationException>(
            () => new DatabaseMigrator([.. Migration.Embedded, broken], NullLogger.Instance).MigrateAsync(database.OwnerConnectionString, CancellationToken.None));

        Assert.Contains(broken.FileName, failure.Message, StringComparison.Ordinal);
        Assert.Contains("no_such_table", failure.Message, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        Assert.Null(await connection.Linq().ExecuteAsync<string?>("select to_regclass('half_done')::text", CancellationToken.None));
        Assert.Equal(Migration.Embedded.Select(m => (m.Version, m.Checksum)), await AppliedAsync(database));
    }

    [Fact]
    public async Task An_empty_database_has_every_migration_pending()
    {
        var cluster = await TestPostgres.GetClusterAsync();
        await using var connection = new NpgsqlConnection(cluster.SuperuserConnectionString("postgres"));
        await connection.OpenAsync();

        var pending = await DatabaseMigrator.ForEmbeddedMigrations(NullLogger.Instance).GetPendingAsync(connection, CancellationToken.None);

        Assert.Equal(Migration.Embedded, pending);
    }

    [Fact]
    public async Task Dropping_the_plaintext_personal_data_is_refused_while_a_row_is_not_sealed_yet()
    {
        // A database as the version before field-level encryption's last step left it, holding one unsealed address.
        await using var template = await TestPostgres.CreateDatabaseAsync();
        var superuser = new NpgsqlConnectionStringBuilder(template.SuperuserConnectionString) { Database = "postgres", Pooling = false };
        var name = "unsealed_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(superuser.ConnectionString))
        {
            await admin.Linq().ExecuteAsync($"create database \"{name}\" owner invisible_owner template template0", CancellationToken.None);
        }

        try
        {
            var owner = new NpgsqlConnectionStringBuilder(template.OwnerConnectionString) { Database = name, Pooling = false }.ConnectionString;
            var beforeDrop = Migration.Embedded.Where(m => m.Version < DropPlaintextVersion).ToList();
            await new DatabaseMigrator(beforeDrop, NullLogger.Instance).MigrateAsync(owner, CancellationToken.None);
            await using (var arrange = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(superuser.ConnectionString) { Database = name }.ConnectionString))
            {
                await arrange.Linq().ExecuteAsync(
                    """
                    with tenant as (insert into tenants (slug, display_name) values ('before-sealing', 'Before sealing') returning id)
                    insert into users (tenant_id, email, role) select id, 'clerk@example.com', 'clerk' from tenant
                    """, CancellationToken.None);
            }

            var refused = await Assert.ThrowsAsync<MigrationException>(
                () => DatabaseMigrator.ForEmbeddedMigrations(NullLogger.Instance).MigrateAsync(owner, CancellationToken.None));

            Assert.Contains("Personal data in users is not sealed yet", refused.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await using var admin = new NpgsqlConnection(superuser.ConnectionString);
            await admin.Linq().ExecuteAsync($"drop database if exists \"{name}\" with (force)", CancellationToken.None);
        }
    }

    private static int DropPlaintextVersion => Migration.Embedded.Single(m => m.Name == "drop_plaintext_personal_data").Version;

    // A probe after every migration the product ships, so new migrations never collide with it.
    private static int NextVersion => Migration.Embedded.Max(m => m.Version) + 1;

    private static async Task<List<(int Version, string Checksum)>> AppliedAsync(TestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        return (await connection.Linq().QueryToListAsync(row => (row.GetFieldValue<int>(0), row.GetFieldValue<string>(1)), "select version, checksum from schema_migrations order by version", CancellationToken.None)).ToList();
    }
}
