using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Invisible.Server.Database;

/// <summary>
/// The database as a readiness check, shared by <c>/readyz</c> and <c>grpc.health.v1.Health</c>: the supervisor's state
/// (in memory) and the last answer of <see cref="DatabaseReadinessProbe"/>, never a connection of its own. The data are
/// reason codes for anonymous callers; the driver's text goes only to the description (the log).
/// </summary>
public sealed class DatabaseReadinessCheck(DatabaseReadinessProbe probe, DatabaseSupervision supervision) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Unready until the supervisor has finished: a restarted server answers before the stale pooled connections are cleared.
        if (supervision.Snapshot() is { Restarting: true } restart)
        {
            var why = restart.LastFailure is null
                ? "the embedded PostgreSQL died and is being restarted"
                : $"the embedded PostgreSQL died and is being restarted (attempt {restart.Attempts} failed: {restart.LastFailure})";
            return HealthCheckResult.Unhealthy(why, data: new Dictionary<string, object>
            {
                ["reachable"] = false,
                ["restarting"] = true,
                ["problem"] = "DATABASE_RESTARTING",
            });
        }

        var report = await probe.LatestAsync(cancellationToken);
        var data = new Dictionary<string, object>
        {
            ["reachable"] = report.IsReachable,
            ["pendingMigrations"] = report.PendingMigrations,
        };
        if (report.IsHealthy)
        {
            return HealthCheckResult.Healthy(data: data);
        }

        var problem = report.Problem ?? $"migrations not applied: {string.Join(", ", report.PendingMigrations)}";
        // /readyz is anonymous: a reason code, not the driver's text (addresses, user names); the text stays in the description.
        data["problem"] = report.IsReachable ? "MIGRATIONS_PENDING" : "DATABASE_UNREACHABLE";
        return HealthCheckResult.Unhealthy(problem, data: data);
    }
}
