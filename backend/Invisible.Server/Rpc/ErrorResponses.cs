using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.AspNetCore.Server;
using Invisible.Server.Errors;
using Microsoft.Net.Http.Headers;

namespace Invisible.Server.Rpc;

/// <summary>
/// A <see cref="DomainException"/> as the client sees it: a <c>google.rpc.Status</c> with <c>ErrorInfo</c> (reason, domain,
/// metadata) and <c>BadRequest</c> (field violations) details, carried in <c>grpc-status-details-bin</c> on gRPC and as the
/// JSON body of REST calls.
/// </summary>
public static class ErrorResponses
{
    /// <summary>
    /// The detail types a status may carry. JSON transcoding needs them too: without them it cannot write the
    /// <c>grpc-status-details-bin</c> status of a failed REST call as JSON and answers 500 with an empty body instead.
    /// </summary>
    public static readonly TypeRegistry DetailTypes = TypeRegistry.FromMessages(ErrorInfo.Descriptor, BadRequest.Descriptor, RetryInfo.Descriptor);

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithTypeRegistry(DetailTypes));

    public static Google.Rpc.Status ToStatus(DomainException exception)
    {
        var status = new Google.Rpc.Status { Code = (int)exception.Kind, Message = exception.Message };
        if (exception.Reason is not null)
        {
            var info = new ErrorInfo { Reason = exception.Reason, Domain = exception.Domain ?? string.Empty };
            foreach (var (key, value) in exception.Metadata)
            {
                info.Metadata[key] = value;
            }
            status.Details.Add(Any.Pack(info));
        }

        if (exception.RetryAfter is { } retryAfter)
        {
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }));
        }

        if (exception.FieldViolations.Count > 0)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.Add(exception.FieldViolations.Select(violation => new BadRequest.Types.FieldViolation
            {
                Field = violation.Field,
                Description = violation.Description,
                Reason = violation.Reason ?? string.Empty,
            }));
            status.Details.Add(Any.Pack(badRequest));
        }

        return status;
    }

    /// <summary>Whether the request is a call of a gRPC method, natively, as gRPC-Web or through its REST mapping.</summary>
    public static bool IsApiRequest(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null;

    /// <summary>
    /// Answers a request that never reached its gRPC method (refused by authorization): a trailers-only gRPC response, or
    /// for the REST mapping the HTTP status with the <c>google.rpc.Status</c> as JSON.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, DomainException exception)
    {
        var status = ToStatus(exception);
        var response = context.Response;
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = status.Code.ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(status.Message);
            response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray()).TrimEnd('=');
            await response.CompleteAsync();
            return;
        }

        response.StatusCode = HttpStatusOf(exception.Kind);
        response.Headers[HeaderNames.ContentType] = "application/json; charset=utf-8";
        await response.WriteAsync(Json.Format(status), context.RequestAborted);
    }

    /// <summary>google.rpc.Code to HTTP, as the REST mapping (google.api.http) defines it.</summary>
    public static int HttpStatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument or ErrorKind.FailedPrecondition or ErrorKind.OutOfRange => StatusCodes.Status400BadRequest,
        ErrorKind.Unauthenticated => StatusCodes.Status401Unauthorized,
        ErrorKind.PermissionDenied => StatusCodes.Status403Forbidden,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.AlreadyExists or ErrorKind.Aborted => StatusCodes.Status409Conflict,
        ErrorKind.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        ErrorKind.Cancelled => 499,
        ErrorKind.Unimplemented => StatusCodes.Status501NotImplemented,
        ErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        ErrorKind.DeadlineExceeded => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status500InternalServerError,
    };
}
