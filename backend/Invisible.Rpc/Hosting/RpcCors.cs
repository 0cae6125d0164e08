using Microsoft.AspNetCore.Http;

namespace Invisible.Rpc.Hosting;

/// <summary>CORS for browsers calling gRPC-Web from the configured origins.</summary>
internal sealed class RpcCors(IReadOnlyCollection<string> allowedOrigins)
{
    /// <summary>Protocol headers a browser script must be able to read; custom response metadata is added per call.</summary>
    public const string ExposedProtocolHeaders = "grpc-status, grpc-message, grpc-status-details-bin, grpc-encoding, grpc-accept-encoding, x-request-id";

    public bool IsAllowed(HttpRequest request, out string origin)
    {
        origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && allowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase);
    }

    public static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method");

    /// <summary>Answers a preflight: allowed origins get POST with the requested headers; others get no CORS headers, so the browser refuses.</summary>
    public void AnswerPreflight(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        http.Response.Headers.Vary = "Origin";
        if (!IsAllowed(http.Request, out var origin))
        {
            return;
        }

        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.AccessControlAllowMethods = "POST";
        headers.AccessControlAllowHeaders = http.Request.Headers.AccessControlRequestHeaders.ToString() is { Length: > 0 } requested
            ? requested
            : "content-type, x-grpc-web, x-user-agent, grpc-timeout, grpc-accept-encoding, authorization, x-request-id";
        headers.AccessControlMaxAge = "7200";
    }

    /// <param name="origin">The request's origin, which <see cref="IsAllowed"/> accepted.</param>
    public static void AllowResponse(HttpContext http, string origin, IEnumerable<string> customHeaderKeys)
    {
        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.Vary = "Origin";
        headers.AccessControlExposeHeaders = string.Join(", ", customHeaderKeys.Distinct().Prepend(ExposedProtocolHeaders));
    }
}
