using Invisible.Contracts.Imports.V1;
using Invisible.Platform.Events;
using Invisible.Rpc.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Imports;

public static class ImportsRegistration
{
    /// <summary>The import application service, chunked upload sessions and the gRPC <c>invisible.imports.v1.ImportService</c>.</summary>
    public static RpcBuilder AddImports(this RpcBuilder rpc)
    {
        rpc.Services.TryAddSingleton(TimeProvider.System);
        rpc.Services.TryAddSingleton<ImportService>();
        rpc.Services.TryAddSingleton<UploadSessions>();
        return rpc.AddService<ImportServiceHandler>(ImportsReflection.Descriptor.Services[0]);
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
}
