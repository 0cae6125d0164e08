using Invisible.Data.Embedded;
using Invisible.Data.Health;
using Invisible.Data.Migrations;
using Invisible.Data.Provisioning;
using Invisible.Data.Secrets;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Invisible.Data.Tests;

public sealed class DatabaseHealthTests
{
    [Fact]
    public async Task Health_follows_the_server_down_and_back_up_with_the_same_instance()
    {
        using var dataDirectory = new TemporaryDirectory("invisible-health-");
        await TestPostgres.PrepareDataDirectoryAsync(dataDirectory.Path);
        var options = new EmbeddedPostgresOptions { DataDirectory = dataDirectory.Path, Ephemeral = true };
        var migrator = DatabaseMigrator.ForEmbeddedMigrations(NullLogger.Instance);
        var cluster = await EmbeddedPostgres.StartAsync(options, NullLogger.Instance, CancellationToken.None);
        var passwords = await DatabaseRolePasswords.FromSecretsFileAsync(DatabaseSecretsFile.InDataDirectory(dataDirectory.Path), CancellationToken.None);
        var connectionStrings = await new DatabaseProvisioner(migrator, NullLogger.Instance)
            .ProvisionAsync(cluster.SuperuserConnectionString(), "invisible", passwords, CancellationToken.None);
        var health = new DatabaseHealth(connectionStrings.AppConnectionString, migrator, TimeSpan.FromSeconds(2));

        var whileRunning = await health.CheckAsync(CancellationToken.None);
        await cluster.StopAsync(CancellationToken.None);
        var whileStopped = await health.CheckAsync(CancellationToken.None);
        await using var restarted = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = dataDirectory.Path, Ephemeral = true, Port = cluster.Port }, NullLogger.Instance, CancellationToken.None);
        var afterRestart = await health.CheckAsync(CancellationToken.None);

        Assert.Empty(whileRunning.PendingMigrations);
        Assert.True(whileRunning.IsHealthy);
        Assert.False(whileStopped.IsReachable);
        Assert.False(whileStopped.IsHealthy);
        Assert.NotNull(whileStopped.Problem);
        Assert.True(afterRestart.IsHealthy, afterRestart.Problem);
    }

    [Fact]
    public async Task A_pending_migration_makes_a_reachable_database_unhealthy_and_is_named()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var newerBuild = new DatabaseMigrator([.. Migration.Embedded, new Migration(99, "future_change", "select 1;")], NullLogger.Instance);

        var report = await new DatabaseHealth(database.AppConnectionString, newerBuild).CheckAsync(CancellationToken.None);

        Assert.True(report.IsReachable);
        Assert.False(report.IsHealthy);
        Assert.Equal(["0099_future_change.sql"], report.PendingMigrations);
    }
}
