namespace Invisible.Server.Http;

/// <summary>Security headers on every HTTP response, including errors and static files.</summary>
public static class SecurityHeaders
{
    /// <summary>
    /// Scripts only from our own origin; inline styles are allowed because Angular injects component styles at run time.
    /// gRPC-Web calls go to the same origin, so <c>connect-src 'self'</c> suffices.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// For a document the SPA shows in a frame of its own (a kept PDF beside the keying form): nothing may load from it, and
    /// only our own pages may frame it.
    /// </summary>
    public const string FramedDocumentContentSecurityPolicy = "default-src 'none'; frame-ancestors 'self'";

    private const string FramedBySelf = "invisible.security.framed-by-self";

    /// <summary>Lets our own pages frame this one response (and no other): see <see cref="FramedDocumentContentSecurityPolicy"/>.</summary>
    public static void AllowFramingBySelf(HttpContext context) => context.Items[FramedBySelf] = true;

    /// <summary>The app needs none of these powerful features, so neither it nor anything framed or injected may ask for them.</summary>
    public const string PermissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=()";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                var framed = context.Items.ContainsKey(FramedBySelf);
                headers.ContentSecurityPolicy = framed ? FramedDocumentContentSecurityPolicy : ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = framed ? "SAMEORIGIN" : "DENY";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers["Permissions-Policy"] = PermissionsPolicy;
                if (context.Request.IsHttps)
                {
                    headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
}
