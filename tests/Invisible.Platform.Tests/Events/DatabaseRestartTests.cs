using System.Net;
using System.Net.Sockets;
using LinqToDB.Data;
using Invisible.Data.Embedded;
using Invisible.Data.Migrations;
using Invisible.Data.Provisioning;
using Invisible.Data.Secrets;
using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Platform.Tests.Events;

/// <summary>
/// The dispatcher across a real restart of PostgreSQL (<c>pg_ctl stop -m fast</c>, then start on the same port). It has a
/// cluster of its own, because stopping the shared test cluster would break every other test class running beside it.
/// </summary>
public sealed class DatabaseRestartTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "invisible-platform-restart-" + Guid.NewGuid().ToString("N")[..8]);
    private EmbeddedPostgresOptions _options = null!;
    private EmbeddedPostgres _server = null!;
    private NpgsqlDataSource _appDataSource = null!;

    public async Task InitializeAsync()
    {
        _options = new EmbeddedPostgresOptions { DataDirectory = _dataDirectory, Ephemeral = true, Port = FreeLoopbackPort() };
        _server = await EmbeddedPostgres.StartAsync(_options, NullLogger.Instance, TestTimeout.Token);
        var provisioner = new DatabaseProvisioner(DatabaseMigrator.ForEmbeddedMigrations(NullLogger.Instance), NullLogger.Instance);
        var passwords = new DatabaseRolePasswords(DatabaseSecretsFile.GenerateSecret(), DatabaseSecretsFile.GenerateSecret());
        var connectionStrings = await provisioner.ProvisionAsync(_server.SuperuserConnectionString(), "invisible", passwords, TestTimeout.Token);
        _appDataSource = NpgsqlDataSource.Create(connectionStrings.AppConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _appDataSource.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Events_survive_a_database_restart_during_dispatch_with_nothing_lost_and_nothing_doubled()
    {
        var tenantId = await new TenantDirectory(_appDataSource).CreateAsync("restart", "Restart", "USD", TestTimeout.Token);
        var tenants = new TenantDatabase(_appDataSource);
        var before = Enumerable.Range(0, 300).Select(i => ReceiptPosted.For(tenantId, $"GR-{i}")).ToList();
        await EnqueueAsync(tenants, before);

        await using var services = EmbeddedEventServices.For(_appDataSource, new HandlerSwitch { Delay = TimeSpan.FromMilliseconds(5) }, maxAttempts: 50);
        var dispatcher = services.GetRequiredService<OutboxDispatcher>();
        var deliveredBeforeRestart = 0;
        await dispatcher.StartAsync(TestTimeout.Token);
        try
        {
            // Restart once some but not all events are through.
            await Eventually.TrueAsync(async () => (await EffectCountingHandler.EffectsAsync(_appDataSource)).Count >= 20, TimeSpan.FromSeconds(30));
            deliveredBeforeRestart = (await EffectCountingHandler.EffectsAsync(_appDataSource)).Count;
            await _server.StopAsync(TestTimeout.Token);
            await _server.DisposeAsync();
            _server = await EmbeddedPostgres.StartAsync(_options, NullLogger.Instance, TestTimeout.Token);

            // The test's own connections were cut too; the dispatcher has to cope by itself, the test need not.
            _appDataSource.Clear();
            var after = Enumerable.Range(0, 50).Select(i => ReceiptPosted.For(tenantId, $"GR-AFTER-{i}")).ToList();
            await EnqueueAsync(tenants, after);

            // Published rows are marked after their subscriber's transaction commits, so wait for both.
            await Eventually.TrueAsync(
                async () => (await EffectCountingHandler.EffectsAsync(_appDataSource)).Count == before.Count + after.Count &&
                            await UnpublishedAsync(tenants, tenantId) == 0,
                TimeSpan.FromSeconds(60));
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }

        Assert.InRange(deliveredBeforeRestart, 20, before.Count - 1);
        var effects = await EffectCountingHandler.EffectsAsync(_appDataSource);
        Assert.All(effects, effect => Assert.Equal(1, effect.Value));
        Assert.Equal(0, await UnpublishedAsync(tenants, tenantId));
        await using var unitOfWork = await tenants.BeginAsync(tenantId, TestTimeout.Token);
        Assert.Equal(0, await unitOfWork.Db.ExecuteAsync<long>("SELECT count(*) FROM outbox_dead_letters", CancellationToken.None));
    }

    private static async Task<long> UnpublishedAsync(TenantDatabase tenants, Guid tenantId)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, TestTimeout.Token);
        return await unitOfWork.Db.ExecuteAsync<long>("SELECT count(*) FROM outbox WHERE published_at IS NULL", CancellationToken.None);
    }

    private static async Task EnqueueAsync(TenantDatabase tenants, List<ReceiptPosted> events)
    {
        await using var unitOfWork = await tenants.BeginAsync(events[0].TenantId, TestTimeout.Token);
        foreach (var receipt in events)
        {
            await EventOutbox.EnqueueAsync(unitOfWork, receipt, TestTimeout.Token);
        }

        await unitOfWork.CommitAsync(TestTimeout.Token);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
