using System.Collections;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Invisible.Rpc.Interception;

/// <summary>Logs each call's outcome inside a scope carrying the request id, so every log line of the call can be correlated.</summary>
public sealed partial class RequestLoggingInterceptor(ILogger<RequestLoggingInterceptor> logger) : IRpcInterceptor
{
    public async Task InterceptAsync(RpcCallContext context, RpcContinuation next)
    {
        using var scope = logger.BeginScope(new CallScope(context));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
            Finished(context.Method.FullName, StatusCode.OK, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (RpcException exception)
        {
            Finished(context.Method.FullName, exception.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }
    }

    // Generated: checks the level before boxing the arguments, which happens on every call otherwise.
    [LoggerMessage(LogLevel.Information, "gRPC {RpcMethod} finished with {StatusCode} in {ElapsedMs:0.0} ms")]
    private partial void Finished(string rpcMethod, StatusCode statusCode, double elapsedMs);

    /// <summary>The scope's state: read by structured loggers as two properties, without a dictionary per call.</summary>
    private sealed class CallScope(RpcCallContext context) : IReadOnlyList<KeyValuePair<string, object>>
    {
        public int Count => 2;

        public KeyValuePair<string, object> this[int index] => index switch
        {
            0 => new("RequestId", context.RequestId),
            1 => new("RpcMethod", context.Method.FullName),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
        {
            yield return this[0];
            yield return this[1];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"RequestId:{context.RequestId} RpcMethod:{context.Method.FullName}";
    }
}
