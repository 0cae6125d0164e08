using Microsoft.AspNetCore.Mvc;
using Invisible.Server.Database;
using Invisible.Server.Rpc;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Invisible.Server.Http;

/// <summary>
/// <c>/healthz</c>: the process answers (200 even while the embedded database is being restarted, which it reports as
/// <c>"database": "restarting"</c>: restarting the process would not help). <c>/readyz</c>: it can do its job: every check tagged as readiness passes, the
/// same checks that <c>grpc.health.v1.Health</c> reports. Both are anonymous, so they answer from memory (the supervisor's
/// state, the background readiness probe) and say why with reason codes; the driver's text is only in the log.
/// </summary>
public static class HealthEndpoints
{
    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz", ([FromServices] DatabaseSupervision supervision) => supervision.Snapshot() is { Restarting: true } restart
            ? Results.Json(new { status = "live", database = "restarting", restartAttempts = restart.Attempts })
            : Results.Json(new { status = "live" }));
        app.MapGet("/readyz", async (HealthCheckService health, CancellationToken cancellationToken) =>
        {
            var report = await health.CheckHealthAsync(check => check.Tags.Contains(RpcOptions.ReadinessTag), cancellationToken);
            var ready = report.Status == HealthStatus.Healthy;
            var body = new
            {
                status = Readiness(report.Status),
                checks = report.Entries.ToDictionary(
                    entry => entry.Key,
                    entry => (object)new Dictionary<string, object?>(entry.Value.Data.Select(pair => KeyValuePair.Create(pair.Key, (object?)pair.Value)))
                    {
                        ["status"] = Readiness(entry.Value.Status),
                    }),
            };
            return Results.Json(body, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }

    private static string Readiness(HealthStatus status) => status == HealthStatus.Healthy ? "ready" : "unready";
}
