namespace Invisible.Server.Rpc;

/// <summary>
/// A database outage met before the call reaches its gRPC method, and so before <see cref="ErrorInterceptor"/>: checking a
/// caller's API key or session reads the database during authentication. Without this the call would end as HTTP 500
/// ("Bad gRPC response"); with it, the same UNAVAILABLE / DATABASE_UNAVAILABLE and <c>retry-after</c> as inside a method
/// (HTTP 503 with <c>Retry-After</c> for the REST mapping).
/// </summary>
public static class DatabaseOutageResponses
{
    public static IApplicationBuilder UseDatabaseOutageResponses(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception exception) when (ErrorInterceptor.IsDatabaseUnavailable(exception) && ErrorResponses.IsApiRequest(context) && !context.Response.HasStarted)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseOutageResponses))
                .LogWarning(exception, "{Path}: the database is not reachable (request {RequestId})", context.Request.Path, context.TraceIdentifier);
            context.Response.Headers["retry-after"] = ErrorInterceptor.DatabaseRetryAfter;
            await ErrorResponses.WriteAsync(context, ErrorInterceptor.DatabaseUnavailableError());
        }
    });
}
