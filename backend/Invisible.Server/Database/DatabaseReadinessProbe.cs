using Invisible.Data.Health;
using Invisible.Server.Rpc;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Database;

/// <summary>
/// The one place that asks the database whether it is ready, in the background every
/// <see cref="RpcOptions.ReadinessProbeInterval"/>: <c>/readyz</c>, <c>grpc.health.v1.Health</c> (Check and every Watch
/// tick) serve the last answer, so no number of anonymous probes can open connections to the database. Before the first
/// background probe has finished, the first caller runs it and the others wait for that one.
/// </summary>
public sealed class DatabaseReadinessProbe(DatabaseHealth database, IOptions<RpcOptions> options, ILogger<DatabaseReadinessProbe> logger) : BackgroundService
{
    private readonly SemaphoreSlim _firstProbe = new(1, 1);
    private volatile DatabaseHealthReport? _latest;

    /// <summary>The last probe's answer (the driver's text stays in <see cref="DatabaseHealthReport.Problem"/>, for the log only).</summary>
    public async ValueTask<DatabaseHealthReport> LatestAsync(CancellationToken cancellationToken)
    {
        if (_latest is { } latest)
        {
            return latest;
        }

        await _firstProbe.WaitAsync(cancellationToken);
        try
        {
            return _latest ?? Remember(await database.CheckAsync(cancellationToken));
        }
        finally
        {
            _firstProbe.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReadinessProbeInterval);
        do
        {
            try
            {
                Remember(await database.CheckAsync(stoppingToken));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "The readiness probe failed unexpectedly");
                Remember(new DatabaseHealthReport(false, [], "the probe failed unexpectedly"));
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private DatabaseHealthReport Remember(DatabaseHealthReport report)
    {
        var previous = _latest;
        _latest = report;
        if (previous is null || previous.IsHealthy != report.IsHealthy)
        {
            if (report.IsHealthy)
            {
                logger.LogInformation("Readiness probe: the database is ready");
            }
            else
            {
                logger.LogWarning("Readiness probe: the database is not ready: {Problem}", report.Problem ?? "migrations pending: " + string.Join(", ", report.PendingMigrations));
            }
        }

        return report;
    }

    public override void Dispose()
    {
        _firstProbe.Dispose();
        base.Dispose();
    }
}
