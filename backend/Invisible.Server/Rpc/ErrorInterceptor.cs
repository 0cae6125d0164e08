using Grpc.Core;
using Grpc.Core.Interceptors;
using Invisible.Server.Errors;
using Npgsql;

namespace Invisible.Server.Rpc;

/// <summary>
/// The one place where exceptions become gRPC statuses. A <see cref="DomainException"/> becomes its status with details; a
/// database that cannot be reached becomes UNAVAILABLE (try again); a statement the database ended at its statement_timeout
/// becomes DEADLINE_EXCEEDED; a call the client cancelled or let run past its deadline says so. Anything else is a bug: INTERNAL with a generic message naming the request id, the details logged.
/// </summary>
public sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public const string Domain = "invisible.app";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception exception) when (exception is not RpcException)
        {
            throw ToStatus(exception, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception exception) when (exception is not RpcException)
        {
            throw ToStatus(exception, context);
        }
    }

    private RpcException ToStatus(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case DomainException domain:
                return ErrorResponses.ToStatus(domain).ToRpcException();
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return context.Deadline <= DateTime.UtcNow
                    ? new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded."))
                    : new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled by the client."));
            case PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } timedOut:
                // The server ended the statement (statement_timeout; the client's own cancellations are handled above): the
                // call ran out of time, which is not a bug, and a narrower filter or a retry later may succeed.
                logger.LogWarning(timedOut, "gRPC {Method}: a database statement ran out of time (request {RequestId})", context.Method, context.RequestId());
                return ErrorResponses.ToStatus(DomainException.WithReason(
                    ErrorKind.DeadlineExceeded, "The database took too long to answer. Try again, or narrow the request.", "DATABASE_TIMEOUT", Domain))
                    .ToRpcException();
            case NpgsqlException { IsTransient: true } or TimeoutException:
                logger.LogWarning(exception, "gRPC {Method}: the database is not reachable (request {RequestId})", context.Method, context.RequestId());
                return ErrorResponses.ToStatus(DomainException.WithReason(
                    ErrorKind.Unavailable, "The database is not reachable right now. Try again in a few seconds.", "DATABASE_UNAVAILABLE", Domain,
                    new Dictionary<string, string> { ["retry_after_seconds"] = "5" })).ToRpcException();
            default:
                logger.LogError(exception, "gRPC {Method} failed unexpectedly (request {RequestId})", context.Method, context.RequestId());
                return new RpcException(new Status(StatusCode.Internal, $"Internal error (request id {context.RequestId()})."));
        }
    }
}
