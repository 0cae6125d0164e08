using Invisible.Platform;
using Invisible.Server.Accounts;
using Invisible.Platform.Dapr;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Server.Http;
using Invisible.Server.Realtime;
using Invisible.Server.Imports;
using Invisible.Server.Intake;
using Invisible.Server.Keying;
using Invisible.Server.Matching;
using Invisible.Server.Operations;
using Invisible.Server.Exceptions;
using Invisible.Server.FieldEncryption;
using Invisible.Server.Vendors;
using Invisible.Server.QuickBooks;
using Invisible.Server.Notifications;
using Invisible.Server.Audit;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.Extensions.Options;

namespace Invisible.Server;

/// <summary>The composition root: what the product is made of, one line per capability.</summary>
public static class ServerComposition
{
    public static IServiceCollection AddInvisibleServer(this IServiceCollection services, IConfiguration configuration, DatabaseRuntime database)
    {
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        services.AddProductTelemetry(configuration, configuration.GetSection(ServerOptions.Section).Get<ServerOptions>()?.Role ?? ServerRole.All, scrapeEndpoint: true);
        services.AddInvisibleDatabase(database);
        services.AddSingleton<DatabaseReadinessProbe>().AddHostedService(provider => provider.GetRequiredService<DatabaseReadinessProbe>());
        services.AddHealthChecks().AddCheck<DatabaseReadinessCheck>("database", tags: [RpcOptions.ReadinessTag]);
        services.AddPlatform(configuration);
        services.AddGrpcTransport();
        services.AddRequestRateLimits();
        services.AddProxyForwarding();
        services.AddOpenApiDocument();
        services.AddFieldEncryption().AddAccounts().AddImports().AddRealtime().AddMatching().AddExceptions().AddVendors().AddAudit();
        services.AddEmailIntake(configuration, configuration.GetSection(ServerOptions.Section).Get<ServerOptions>()?.Role ?? ServerRole.All);
        services.AddKeying();
        services.AddQuickBooks(configuration.GetSection(ServerOptions.Section).Get<ServerOptions>()?.Role ?? ServerRole.All);
        services.AddNotifications(configuration.GetSection(ServerOptions.Section).Get<ServerOptions>()?.Role ?? ServerRole.All);
        services.AddKeptFileSweep(configuration);
        services.AddSpaCompression();
        services.AddOperations(configuration, database);
        return services;
    }

    public static WebApplication UseInvisiblePipeline(this WebApplication app, ServerRole role, string? spaRoot)
    {
        app.UseProxyForwarding();
        app.UseSecurityHeaders();
        app.UseGrpcTransport();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapHealthEndpoints();
        app.MapOperations();
        if (role != ServerRole.Worker)
        {
            app.MapAccounts().MapImports().MapRealtime().MapMatching().MapExceptions().MapVendors().MapAudit().MapEmailIntake().MapKeying().MapQuickBooks().MapNotifications();
            app.MapGrpcInfrastructure();
            app.EnsureEveryMethodDeclaresAccess();
            app.MapOpenApiDocument();
            app.MapSpa(spaRoot);
        }

        if (role != ServerRole.Api && app.Services.GetRequiredService<IOptions<RuntimeOptions>>().Value.Mode == RuntimeMode.Dapr)
        {
            app.UseDaprAppCallbacks();
            app.MapDaprAppCallbacks();
        }

        return app;
    }
}
