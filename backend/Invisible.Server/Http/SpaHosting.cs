using System.Text.RegularExpressions;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Invisible.Server.Http;

/// <summary>Serves the built Angular app: hashed assets cached for a year, <c>index.html</c> revalidated, deep links fall back to it.</summary>
public static partial class SpaHosting
{
    public const string BuildFolder = "frontend/dist/invisible/browser";

    /// <summary>The configured folder, else the repository's build output found above the running executable.</summary>
    public static string? Locate(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Directory.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, BuildFolder);
            if (File.Exists(Path.Combine(candidate, "index.html")))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The web app's scripts and styles travel compressed (about 3:1 for Angular's output).</summary>
    public static IServiceCollection AddSpaCompression(this IServiceCollection services) =>
        services.AddResponseCompression(compression =>
        {
            compression.EnableForHttps = true;
            compression.Providers.Add<BrotliCompressionProvider>();
            compression.Providers.Add<GzipCompressionProvider>();
            compression.MimeTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json", "image/svg+xml"];
        });

    /// <summary>Path prefixes of the API's REST mapping and its OpenAPI document, which are never the web app's deep links.</summary>
    public static readonly string[] ApiPrefixes = ["/v1", "/openapi"];

    public static WebApplication MapSpa(this WebApplication app, string? spaRoot)
    {
        // A wrong REST path must not be answered 200 with index.html (a client would try to parse it): NOT_FOUND as JSON.
        // These endpoints rank below the REST methods' own routes, and above the fallback.
        foreach (var prefix in ApiPrefixes)
        {
            app.Map(prefix + "/{**rest}", context => Rpc.ErrorResponses.WriteAsync(context, Errors.DomainException.WithReason(
                Errors.ErrorKind.NotFound, $"No API method at {context.Request.Method} {context.Request.Path}; see {OpenApiDocument.Path}.",
                "METHOD_NOT_FOUND", Rpc.ErrorInterceptor.Domain))).AllowAnonymous();
        }

        if (spaRoot is null)
        {
            app.Logger.LogWarning("The web app is not built ({Folder} not found); serving the API only. `./invisible up` builds it.", BuildFolder);
            app.MapGet("/", () => Results.Text(
                "Invisible is running, but the web app is not built. Run ./invisible up from the repository to build it.",
                statusCode: StatusCodes.Status503ServiceUnavailable));
            return app;
        }

        var files = new PhysicalFileProvider(spaRoot);
        // Not gRPC: its messages are compressed per message (grpc-encoding), and its responses stream with trailers.
        app.UseWhen(context => !Rpc.ErrorResponses.IsApiRequest(context), spa => spa.UseResponseCompression());
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                // Only names with Angular's content hash may be cached for good; index.html, favicon and the like are revalidated.
                context.Context.Response.Headers[HeaderNames.CacheControl] =
                    FingerprintedName().IsMatch(context.File.Name) ? "public, max-age=31536000, immutable" : "no-cache";
            },
        });
        app.MapFallbackToFile("index.html", new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context => context.Context.Response.Headers[HeaderNames.CacheControl] = "no-cache",
        });
        return app;
    }

    [GeneratedRegex(@"-[A-Z0-9]{8}\.(js|css|woff2?)$")]
    private static partial Regex FingerprintedName();
}
