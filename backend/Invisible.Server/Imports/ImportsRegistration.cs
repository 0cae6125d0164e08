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
        services.AddOptions<UploadQuotaOptions>().BindConfiguration(UploadQuotaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    /// <summary>The sweeps of kept files no import references and of abandoned uploads, in the processes that run background work (workers).</summary>
    public static IServiceCollection AddKeptFileSweep(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KeptFileOptions>().BindConfiguration(KeptFileOptions.SectionName);
        services.TryAddSingleton<KeptFileSweep>();
        services.TryAddSingleton<AbandonedUploadSweep>();
        if (EventsOptions.DispatcherEnabledIn(configuration))
        {
            services.AddHostedService(provider => provider.GetRequiredService<KeptFileSweep>());
            services.AddHostedService(provider => provider.GetRequiredService<AbandonedUploadSweep>());
        }

        return services;
    }

    public static IEndpointRouteBuilder MapImports(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<ImportServiceHandler>();
        return endpoints;
    }
}
