using System.Diagnostics.Metrics;
using System.Net;
using Invisible.Data.Backups;
using Invisible.Data.Diagnostics;
using Invisible.Data.Health;
using Invisible.Data.Migrations;
using Invisible.Platform;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Operations;

/// <summary>Who may read <c>GET /metrics</c> (section <c>Metrics</c>): loopback always, plus these networks.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>CIDR networks allowed to scrape besides loopback, e.g. <c>10.0.0.0/8</c> (docker-compose sets its own network).</summary>
    public List<string> AllowedNetworks { get; set; } = [];
}

/// <summary>Operations: <c>/metrics</c> with the operational gauges, and the worker's scheduled backups, restore drills and retention runs.</summary>
public static class OperationsRegistration
{
    public const string MetricsPath = "/metrics";

    public static IServiceCollection AddOperations(this IServiceCollection services, IConfiguration configuration, DatabaseRuntime database)
    {
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName);
        services.AddOptions<BackupOptions>().BindConfiguration(BackupOptions.SectionName);
        services.AddHostedService<OperationsGauges>();
        var role = configuration.GetSection(ServerOptions.Section).Get<ServerOptions>()?.Role ?? ServerRole.All;
        if (role != ServerRole.Api && database.Cluster is not null)
        {
            services.AddHostedService<BackupSchedule>();
        }

        if (role != ServerRole.Api)
        {
            services.AddHostedService<RetentionSchedule>();
        }

        return services;
    }

    public static WebApplication MapOperations(this WebApplication app)
    {
        var networks = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.AllowedNetworks.Select(IPNetwork.Parse).ToList();
        // Metrics name tables, tenants' volumes and error rates: only the monitoring network may read them.
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments(MetricsPath) && !IsAllowed(context.Connection.RemoteIpAddress, networks),
            refused => refused.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }));
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }

    private static bool IsAllowed(IPAddress? address, IReadOnlyList<IPNetwork> networks)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return IPAddress.IsLoopback(address) || networks.Any(network => network.Contains(address));
    }
}

/// <summary>
/// Gauges of the <c>Invisible</c> meter for the alerts: <c>invisible.backup.age</c> (seconds since the newest backup ended; absent
/// with an external database), <c>invisible.database.up</c> (1 reachable with migrations current, else 0) and
/// <c>invisible.disk.free_ratio</c> of the data directory. Refreshed every 30 s, whatever the scrape rate.
/// </summary>
internal sealed class OperationsGauges : PeriodicBackgroundWork
{
    private readonly DatabaseRuntime _database;
    private readonly BackupOptions _backup;
    private readonly string _dataDirectory;
    private readonly Meter _meter;
    private DateTimeOffset? _newestBackup;
    private int _databaseUp;
    private double? _diskFreeRatio;

    public OperationsGauges(
        DatabaseRuntime database, IOptions<BackupOptions> backup, IOptions<ServerOptions> server, IMeterFactory meters, TimeProvider time, ILogger<OperationsGauges> logger)
        : base(TimeSpan.FromSeconds(30), time, logger, "Operational gauges")
    {
        _database = database;
        _backup = backup.Value;
        _dataDirectory = Path.GetFullPath(server.Value.DataDirectory);
        _meter = meters.Create(ProductDiagnostics.Name);
        _meter.CreateObservableGauge("invisible.backup.age", ObserveBackupAge, "s", "Seconds since the newest backup of the embedded cluster ended");
        _meter.CreateObservableGauge("invisible.database.up", () => _databaseUp, "1", "1 when the database is reachable and its migrations current");
        _meter.CreateObservableGauge("invisible.disk.free_ratio", ObserveDiskFree, "1", "Share of the data directory's disk that is free");
    }

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var health = await new DatabaseHealth(_database.ConnectionStrings.AppConnectionString, DatabaseMigrator.ForEmbeddedMigrations(NullLogger<DatabaseMigrator>.Instance))
            .CheckAsync(cancellationToken);
        _databaseUp = health.IsHealthy ? 1 : 0;
        var drive = new DriveInfo(_dataDirectory);
        _diskFreeRatio = (double)drive.AvailableFreeSpace / drive.TotalSize;
        if (_database.Cluster is not null && _backup.Enabled)
        {
            var backups = (await new EmbeddedBackups(_dataDirectory, _backup, Logger).ListAsync(cancellationToken)).Backups;
            _newestBackup = backups.Count > 0 ? backups[^1].StoppedAt : null;
        }
    }

    private IEnumerable<Measurement<double>> ObserveBackupAge()
    {
        if (_database.Cluster is not null && _backup.Enabled)
        {
            // Never backed up counts from the Unix epoch: as old as can be, so the alert fires.
            yield return new Measurement<double>((Time.GetUtcNow() - (_newestBackup ?? DateTimeOffset.UnixEpoch)).TotalSeconds);
        }
    }

    private IEnumerable<Measurement<double>> ObserveDiskFree()
    {
        if (_diskFreeRatio is { } ratio)
        {
            yield return new Measurement<double>(ratio);
        }
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// The worker's backups: a full backup when the newest full one is older than <see cref="BackupOptions.FullBackupInterval"/> (7 days),
/// else an incremental one when the newest is older than <see cref="BackupOptions.IncrementalBackupInterval"/> (1 day); and the
/// restore drill when the last is older than <see cref="BackupOptions.DrillInterval"/> (30 days). Looked at every hour, the first
/// time an hour after start-up: a process started for a moment (tests, a quick `up`) never pays for a backup it did not ask for.
/// </summary>
internal sealed class BackupSchedule(
    DatabaseRuntime database, IOptions<BackupOptions> backup, IOptions<ServerOptions> server, TimeProvider time, ILoggerFactory loggers)
    : PeriodicBackgroundWork(TimeSpan.FromHours(1), time, loggers.CreateLogger<BackupSchedule>(), "Scheduled backup")
{
    private bool _startedUp;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var options = backup.Value;
        if (!_startedUp)
        {
            _startedUp = true;
            return;
        }

        if (!options.Enabled || database.Cluster is not { } cluster)
        {
            return;
        }

        var dataDirectory = Path.GetFullPath(server.Value.DataDirectory);
        var backups = new EmbeddedBackups(dataDirectory, options, Logger);
        var catalog = await backups.ListAsync(cancellationToken);
        var now = Time.GetUtcNow();
        var newestFull = catalog.Backups.LastOrDefault(set => set.Type == "full");
        var newest = catalog.Backups.Count > 0 ? catalog.Backups[^1] : null;
        BackupType? due = newestFull is null || now - newestFull.StoppedAt >= options.FullBackupInterval ? BackupType.Full
            : now - newest!.StoppedAt >= options.IncrementalBackupInterval ? BackupType.Incr
            : null;
        if (due is { } type)
        {
            await backups.BackupAsync(cluster, DatabaseRuntime.EmbeddedDatabaseName, type, cancellationToken);
        }

        var drill = new RestoreDrill(dataDirectory, loggers.CreateLogger<RestoreDrill>());
        if (catalog.Backups.Count + (due is null ? 0 : 1) > 0
            && (await drill.LastAsync(cancellationToken) is not { } last || now - last.RanAt >= options.DrillInterval))
        {
            await drill.RunAsync(ProductLoggingOptions.Default, cancellationToken);
        }
    }
}
