using Grpc.Core;
using Grpc.Core.Interceptors;
using Invisible.Server.Errors;
using Npgsql;

namespace Invisible.Server.Rpc;

/// <summary>
/// The one place where exceptions become gRPC statuses. A <see cref="DomainException"/> becomes its status with details; a
/// database that cannot be reached becomes UNAVAILABLE (try again); a statement the database ended at its statement_timeout
/// becomes DEADLINE_EXCEEDED; text PostgreSQL cannot store (NUL) INVALID_ARGUMENT; a call the client cancelled or let run past its deadline says so. Anything else is a bug: INTERNAL with a generic message naming the request id, the details logged.
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
            case PostgresException { SqlState: PostgresErrorCodes.CharacterNotInRepertoire or PostgresErrorCodes.UntranslatableCharacter }:
                // PostgreSQL text cannot hold NUL (U+0000): a request field carried one. The client's input, not a bug.
                return ErrorResponses.ToStatus(DomainException.WithReason(
                    ErrorKind.InvalidArgument, "Text must not contain NUL (U+0000) characters.", "INVALID_CHARACTER", Domain))
                    .ToRpcException();
            case var _ when IsDatabaseUnavailable(exception):
                logger.LogWarning(exception, "gRPC {Method}: the database is not reachable (request {RequestId})", context.Method, context.RequestId());
                return DatabaseUnavailable();
            default:
                logger.LogError(exception, "gRPC {Method} failed unexpectedly (request {RequestId})", context.Method, context.RequestId());
                return new RpcException(new Status(StatusCode.Internal, $"Internal error (request id {context.RequestId()})."));
        }
    }

    // --- Database outages: UNAVAILABLE with a retry-after, never INTERNAL. ---

    /// <summary>Seconds a client should wait before retrying a call that met a database outage.</summary>
    public const int DatabaseRetryAfterSeconds = 5;

    /// <summary>
    /// The database cannot serve anyone right now, so trying again later may work: no connection (refused, reset, host
    /// unreachable: an <see cref="NpgsqlException"/> over a socket or I/O failure), no connection from the pool in time
    /// (<see cref="TimeoutException"/>), the server shutting down or starting (57P01 admin shutdown, 57P02 crash shutdown,
    /// 57P03 cannot connect now), out of connections (53300) or a lost connection (class 08); also what Npgsql itself calls
    /// transient. Looks through wrapping exceptions.
    /// </summary>
    public static bool IsDatabaseUnavailable(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            var unavailable = current switch
            {
                PostgresException postgres => postgres.IsTransient || postgres.SqlState is
                    PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow or
                    PostgresErrorCodes.TooManyConnections || postgres.SqlState.StartsWith("08", StringComparison.Ordinal),
                NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is System.Net.Sockets.SocketException or IOException or TimeoutException,
                TimeoutException => true,
                _ => false,
            };
            if (unavailable)
            {
                return true;
            }

            if (current is PostgresException)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>UNAVAILABLE, reason DATABASE_UNAVAILABLE with <c>retry_after_seconds</c> (for <see cref="ErrorResponses.WriteAsync"/>).</summary>
    public static DomainException DatabaseUnavailableError() => DomainException.WithReason(
        ErrorKind.Unavailable, "The database is not reachable right now. Try again in a few seconds.", "DATABASE_UNAVAILABLE", Domain,
        new Dictionary<string, string> { ["retry_after_seconds"] = DatabaseRetryAfter });

    /// <summary><see cref="DatabaseRetryAfterSeconds"/> as the <c>retry-after</c> header or trailer says it.</summary>
    public static string DatabaseRetryAfter => DatabaseRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The status of <see cref="DatabaseUnavailableError"/> with a <c>retry-after</c> trailer.</summary>
    private static RpcException DatabaseUnavailable()
    {
        var status = ErrorResponses.ToStatus(DatabaseUnavailableError()).ToRpcException();
        status.Trailers.Add("retry-after", DatabaseRetryAfter);
        return status;
    }
}
