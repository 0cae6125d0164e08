using System.Diagnostics;
using Invisible.Data.Embedded;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Server.Database;

/// <summary>
/// Brings the embedded cluster back when it dies (killed, OOM, crashed) instead of leaving the product unready until someone
/// restarts it. Runs only in the host that owns the cluster: a process that merely attached to another's cluster leaves it to
/// its owner, and a configured <c>ConnectionStrings:Postgres</c> is someone else's to run.
/// </summary>
public sealed class EmbeddedDatabaseSupervisor(
    DatabaseRuntime runtime,
    DatabaseSupervision supervision,
    NpgsqlDataSource dataSource,
    IOptions<DatabaseSupervisionOptions> options,
    ILogger<EmbeddedDatabaseSupervisor> logger) : BackgroundService
{
    private readonly DatabaseSupervisionOptions settings = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cluster = runtime.Cluster;
        if (cluster is null || !cluster.OwnsServer || !settings.Enabled)
        {
            logger.LogDebug(
                "The database is not supervised: {Reason}",
                cluster is null ? "it is configured externally" : !cluster.OwnsServer ? "another process owns the embedded cluster" : "supervision is disabled");
            return;
        }

        try
        {
            using var timer = new PeriodicTimer(settings.PollInterval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (cluster.IsStopped)
                {
                    return;
                }

                bool alive;
                try
                {
                    alive = await cluster.IsServerAliveAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // A failed look is not a dead server; the next tick looks again.
                    logger.LogWarning(exception, "Could not tell whether PostgreSQL for {ClusterDirectory} is running", cluster.ClusterDirectory);
                    continue;
                }

                if (!alive && !cluster.IsStopped)
                {
                    await RecoverAsync(cluster, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping; the cluster is stopped by whoever disposes the runtime.
        }
    }

    private async Task RecoverAsync(EmbeddedPostgres cluster, CancellationToken stoppingToken)
    {
        supervision.MarkRestarting();
        var downSince = Stopwatch.GetTimestamp();
        logger.LogWarning("PostgreSQL for {ClusterDirectory} (port {Port}) is gone; restarting it", cluster.ClusterDirectory, cluster.Port);
        var delay = settings.InitialBackoff;
        for (var attempt = 1; ; attempt++)
        {
            // Waiting first also gives the dead postmaster's children time to exit and release its shared memory.
            await Task.Delay(delay, stoppingToken);
            if (cluster.IsStopped)
            {
                // Stopped on purpose while we waited (it was going down, not dying): nothing to restart, and readiness
                // goes back to asking the database itself.
                supervision.MarkRunning();
                return;
            }

            logger.LogWarning("Restarting PostgreSQL for {ClusterDirectory} on port {Port} (attempt {Attempt})", cluster.ClusterDirectory, cluster.Port, attempt);
            try
            {
                await cluster.RestartAsync(stoppingToken);
                supervision.RecordAttempt(failure: null);
                break;
            }
            catch (PostgresPortTakenException exception)
            {
                supervision.RecordAttempt(exception.Message);
                logger.LogError("{Problem} Next attempt in {Delay}", exception.Message, delay * 2 < settings.MaxBackoff ? delay * 2 : settings.MaxBackoff);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                supervision.RecordAttempt(exception.Message);
                logger.LogWarning(exception, "Restarting PostgreSQL for {ClusterDirectory} failed (attempt {Attempt})", cluster.ClusterDirectory, attempt);
            }

            delay = delay * 2 < settings.MaxBackoff ? delay * 2 : settings.MaxBackoff;
        }

        // Pooled connections still point at the dead server's backends; the first command on each would fail. Clearing both
        // the data source's pool and the connection-string pools makes every later open a fresh connection.
        dataSource.Clear();
        NpgsqlConnection.ClearAllPools();
        supervision.MarkRunning();
        logger.LogInformation(
            "PostgreSQL for {ClusterDirectory} is back on port {Port} after {Seconds:0.0} s down",
            cluster.ClusterDirectory, cluster.Port, Stopwatch.GetElapsedTime(downSince).TotalSeconds);
    }
}
