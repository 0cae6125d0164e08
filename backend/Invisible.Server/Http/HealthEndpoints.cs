using Invisible.Data.Health;

namespace Invisible.Server.Http;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: it can do its job (database reachable, schema current).</summary>
public static class HealthEndpoints
{
    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Json(new { status = "live" }));
        app.MapGet("/readyz", async (DatabaseHealth database, CancellationToken cancellationToken) =>
        {
            var report = await database.CheckAsync(cancellationToken);
            var body = new
            {
                status = report.IsHealthy ? "ready" : "unready",
                checks = new
                {
                    database = new
                    {
                        status = report.IsHealthy ? "ready" : "unready",
                        reachable = report.IsReachable,
                        pendingMigrations = report.PendingMigrations,
                        problem = report.Problem,
                    },
                },
            };
            return Results.Json(body, statusCode: report.IsHealthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}
