using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Server.Http;

namespace Invisible.Server;

/// <summary>The composition root: what the product is made of, one line per capability.</summary>
public static class ServerComposition
{
    public static IServiceCollection AddInvisibleServer(this IServiceCollection services, IConfiguration configuration, DatabaseRuntime database)
    {
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        services.AddInvisibleDatabase(database);
        services.AddSpaCompression();
        return services;
    }

    public static WebApplication UseInvisiblePipeline(this WebApplication app, string? spaRoot)
    {
        app.UseSecurityHeaders();
        app.MapHealthEndpoints();
        app.MapSpa(spaRoot);
        return app;
    }
}
