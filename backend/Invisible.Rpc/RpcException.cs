using Google.Protobuf.WellKnownTypes;
using Google.Rpc;

namespace Invisible.Rpc;

/// <summary>
/// Ends a call with a gRPC status. The message is sent to the client (grpc-message), so it must not contain
/// secrets or internals. Clients branch on <see cref="StatusCode"/> and <see cref="ErrorInfo"/>.Reason, never on
/// the message text; both details travel in <c>grpc-status-details-bin</c> as a <c>google.rpc.Status</c>.
/// </summary>
public class RpcException : Exception
{
    public RpcException(StatusCode statusCode, string message)
        : base(message)
    {
        if (statusCode == StatusCode.OK)
        {
            throw new ArgumentException("An RpcException cannot carry status OK.", nameof(statusCode));
        }

        StatusCode = statusCode;
    }

    public StatusCode StatusCode { get; }

    /// <summary>The machine-readable reason of a domain error.</summary>
    public ErrorInfo? ErrorInfo { get; init; }

    /// <summary>Field violations of a request that failed validation.</summary>
    public BadRequest? BadRequest { get; init; }

    /// <summary>A domain error: the client branches on <paramref name="reason"/> (UPPER_SNAKE_CASE) within <paramref name="domain"/>.</summary>
    public static RpcException WithReason(
        StatusCode statusCode,
        string message,
        string reason,
        string domain,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var info = new ErrorInfo { Reason = reason, Domain = domain };
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                info.Metadata.Add(key, value);
            }
        }

        return new RpcException(statusCode, message) { ErrorInfo = info };
    }

    /// <summary>A validation error: INVALID_ARGUMENT with one violation per offending field.</summary>
    public static RpcException InvalidArgument(string message, params IEnumerable<FieldViolation> violations)
    {
        var badRequest = new BadRequest();
        foreach (var violation in violations)
        {
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation
            {
                Field = violation.Field,
                Description = violation.Description,
                Reason = violation.Reason ?? string.Empty,
            });
        }

        return new RpcException(StatusCode.InvalidArgument, message) { BadRequest = badRequest };
    }

    /// <summary>The <c>google.rpc.Status</c> for <c>grpc-status-details-bin</c>, or null when there are no details.</summary>
    internal Google.Rpc.Status? ToStatusDetails()
    {
        if (ErrorInfo is null && BadRequest is null)
        {
            return null;
        }

        var status = new Google.Rpc.Status { Code = (int)StatusCode, Message = Message };
        if (ErrorInfo is not null)
        {
            status.Details.Add(Any.Pack(ErrorInfo));
        }

        if (BadRequest is not null)
        {
            status.Details.Add(Any.Pack(BadRequest));
        }

        return status;
    }
}

/// <param name="Field">Path to the offending field, e.g. "lines[2].quantity".</param>
/// <param name="Description">What is wrong, for people.</param>
/// <param name="Reason">Optional machine-readable reason, e.g. "MUST_BE_POSITIVE".</param>
public sealed record FieldViolation(string Field, string Description, string? Reason = null);
