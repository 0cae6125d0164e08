using Microsoft.Extensions.Logging;

namespace Invisible.Rpc.Interception;

/// <summary>
/// The one place where exceptions become gRPC statuses. Anything that is not an <see cref="RpcException"/> and
/// that no <see cref="IRpcExceptionMapper"/> recognises becomes INTERNAL with a generic message: the details go to
/// the log (with the request id), never to the client.
/// </summary>
public sealed class ExceptionMappingInterceptor(IEnumerable<IRpcExceptionMapper> mappers, ILogger<ExceptionMappingInterceptor> logger) : IRpcInterceptor
{
    private readonly IRpcExceptionMapper[] _mappers = mappers.ToArray();

    public async Task InterceptAsync(RpcCallContext context, RpcContinuation next)
    {
        try
        {
            await next(context);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw context.ClientGone.IsCancellationRequested
                ? new RpcException(StatusCode.Cancelled, "The call was cancelled by the client.")
                : new RpcException(StatusCode.DeadlineExceeded, "Deadline exceeded.");
        }
        catch (Exception exception)
        {
            foreach (var mapper in _mappers)
            {
                if (mapper.TryMap(exception) is { } mapped)
                {
                    throw mapped;
                }
            }

            logger.LogError(exception, "gRPC {RpcMethod} failed unexpectedly (request {RequestId})", context.Method.FullName, context.RequestId);
            throw new RpcException(StatusCode.Internal, $"Internal error (request id {context.RequestId}).");
        }
    }
}
