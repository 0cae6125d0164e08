using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Invisible.Rpc.Interception;

/// <summary>Logs each call's outcome inside a scope carrying the request id, so every log line of the call can be correlated.</summary>
public sealed class RequestLoggingInterceptor(ILogger<RequestLoggingInterceptor> logger) : IRpcInterceptor
{
    public async Task InterceptAsync(RpcCallContext context, RpcContinuation next)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = context.RequestId, ["RpcMethod"] = context.Method.FullName });
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
            logger.LogInformation("gRPC {RpcMethod} finished with {StatusCode} in {ElapsedMs:0.0} ms", context.Method.FullName, StatusCode.OK, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (RpcException exception)
        {
            logger.LogInformation("gRPC {RpcMethod} finished with {StatusCode} in {ElapsedMs:0.0} ms", context.Method.FullName, exception.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }
    }
}
