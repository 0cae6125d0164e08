using Invisible.Platform.Events;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Imports;

public static class ImportsRegistration
{
    /// <summary>
    /// The import application service, chunked upload sessions and the gRPC <c>invisible.imports.v1.ImportService</c>; the
    /// spools of imports under the data directory, with the sweep of stale ones at start.
    /// </summary>
    public static IServiceCollection AddImports(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ImportSpools>();
        services.AddHostedService<ImportSpoolSweep>();
        services.TryAddSingleton<ImportService>();
        services.TryAddSingleton<UploadSessions>();
        return services;
    }

    /// <summary>The sweep of kept files no import references, in the processes that run background work (workers).</summary>
    public static IServiceCollection AddKeptFileSweep(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KeptFileOptions>().BindConfiguration(KeptFileOptions.SectionName);
        services.TryAddSingleton<KeptFileSweep>();
        if (EventsOptions.DispatcherEnabledIn(configuration))
        {
            services.AddHostedService(provider => provider.GetRequiredService<KeptFileSweep>());
        }

        return services;
    }

    public static IEndpointRouteBuilder MapImports(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<ImportServiceHandler>();
        return endpoints;
    }
}
