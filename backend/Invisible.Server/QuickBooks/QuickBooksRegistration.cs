using Dapr.Client;
using Invisible.Platform;
using Invisible.Platform.Dapr;
using Invisible.Platform.Events;
using Invisible.Server.Exceptions;
using Invisible.Server.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.QuickBooks;

public static class QuickBooksRegistration
{
    public const string CallbackPath = "/quickbooks/callback";

    /// <summary>
    /// QuickBooks Online: the typed client, the connections, the exporter (also what the CLI uses, see
    /// <see cref="AddQuickBooksCore"/>), the export after each decision and, outside the API-only role, the periodic change capture.
    /// </summary>
    public static IServiceCollection AddQuickBooks(this IServiceCollection services, ServerRole role)
    {
        services.AddQuickBooksCore();
        services.TryAddSingleton<QuickBooksWebhook>();
        services.AddIntegrationEventHandler<ExceptionsChanged, ExportAfterDecision>(ExportAfterDecision.Consumer);
        if (role != ServerRole.Api)
        {
            services.TryAddSingleton<QuickBooksChangeCapture>();
            services.AddHostedService(provider => provider.GetRequiredService<QuickBooksChangeCapture>());
        }

        return services;
    }

    /// <summary>What exports need, without hosted work: for the server and for <c>invisible quickbooks</c>.</summary>
    public static IServiceCollection AddQuickBooksCore(this IServiceCollection services)
    {
        services.AddOptions<QuickBooksOptions>().BindConfiguration(QuickBooksOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient<QuickBooksApi>(http => http.Timeout = TimeSpan.FromSeconds(100))
            .ConfigurePrimaryHttpMessageHandler(provider =>
                // In dapr mode the Accounting API calls go out through the sidecar's `quickbooks` HTTP output binding
                // (components/quickbooks.yaml names the host); the OAuth token calls stay direct.
                provider.GetRequiredService<IOptions<RuntimeOptions>>().Value.Mode == RuntimeMode.Dapr
                    ? (HttpMessageHandler)new DaprHttpBindingHandler(
                        provider.GetRequiredService<DaprClient>(), DaprComponents.QuickBooks,
                        new Uri(provider.GetRequiredService<IOptions<QuickBooksOptions>>().Value.EffectiveApiBaseUrl))
                    : new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) });
        services.AddHttpClient<QuickBooksOAuth>(http => http.Timeout = TimeSpan.FromSeconds(30));
        services.TryAddSingleton<QuickBooksCredentials>();
        services.TryAddSingleton<QuickBooksTokenVault>();
        services.TryAddTransient<QuickBooksConnections>();
        services.TryAddTransient<QuickBooksExporter>();
        services.TryAddSingleton<QuickBooksExportCounts>();
        services.TryAddTransient<QuickBooksMapping>();
        return services;
    }

    public static IEndpointRouteBuilder MapQuickBooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<QuickBooksServiceHandler>();
        endpoints.MapPost(QuickBooksWebhook.Path, (HttpRequest request, QuickBooksWebhook webhook, CancellationToken cancellationToken) =>
            webhook.HandleAsync(request, cancellationToken)).AllowAnonymous();
        endpoints.MapGet(CallbackPath, CallbackAsync).AllowAnonymous();
        return endpoints;
    }

    // Intuit sends the browser back here with ?code=&state=&realmId= (or ?error=). The state names the tenant and the admin
    // who started the flow; it is single-use and expires after ten minutes. The browser then lands on the SPA's settings.
    private static async Task<IResult> CallbackAsync(
        HttpRequest request, QuickBooksConnections connections, QuickBooksOAuth oauth, IOptions<QuickBooksOptions> options,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var claimed = query["state"].ToString() is { Length: > 0 } state ? await connections.ClaimOAuthStateAsync(state, cancellationToken) : null;
        if (claimed is null)
        {
            return Results.Redirect("/settings/quickbooks?quickbooks=expired");
        }

        if (query["error"].Count > 0 || query["code"].ToString().Length == 0 || query["realmId"].ToString().Length == 0)
        {
            return Results.Redirect("/settings/quickbooks?quickbooks=refused");
        }

        var redirectUri = !string.IsNullOrWhiteSpace(options.Value.RedirectUri)
            ? options.Value.RedirectUri
            : $"{request.Scheme}://{request.Host}{request.PathBase}{CallbackPath}";
        try
        {
            var tokens = await oauth.ExchangeCodeAsync(query["code"].ToString(), redirectUri, cancellationToken);
            await connections.ConnectAsync(
                claimed.Value.TenantId, query["realmId"].ToString(), tokens, claimed.Value.Actor, request.HttpContext.TraceIdentifier, cancellationToken);
            return Results.Redirect("/settings/quickbooks?quickbooks=connected");
        }
        catch (Exception exception) when (exception is QuickBooksGrantRefusedException or QuickBooksFaultException or HttpRequestException)
        {
            loggers.CreateLogger(typeof(QuickBooksRegistration)).LogWarning("Connecting QuickBooks for tenant {TenantId} failed: {Reason}", claimed.Value.TenantId, exception.Message);
            return Results.Redirect("/settings/quickbooks?quickbooks=failed");
        }
    }
}
