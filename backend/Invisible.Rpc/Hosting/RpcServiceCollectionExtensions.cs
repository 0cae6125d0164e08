using Grpc.Health.V1;
using Invisible.Rpc.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Rpc.Hosting;

public static class RpcServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gRPC layer with <c>grpc.health.v1.Health</c> (reporting the health checks tagged
    /// <see cref="RpcOptions.ReadinessTag"/>). Options bind from configuration section "Rpc", then <paramref name="configure"/>.
    /// </summary>
    public static RpcBuilder AddInvisibleRpc(this IServiceCollection services, Action<RpcOptions>? configure = null)
    {
        services.AddOptions<RpcOptions>().BindConfiguration(RpcOptions.SectionName).Configure(o => configure?.Invoke(o)).ValidateDataAnnotations().ValidateOnStart();
        services.AddHealthChecks();
        var registry = new RpcServiceRegistry();
        var interceptors = new RpcInterceptorTypes();
        services.AddSingleton(registry);
        services.AddSingleton(interceptors);
        services.AddSingleton<RpcPipeline>();
        return new RpcBuilder(services, registry, interceptors)
            .AddService<HealthServiceHandler>(HealthReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("Health"));
    }

    /// <summary>Serves gRPC and gRPC-Web calls; place it before static files and the SPA fallback.</summary>
    public static IApplicationBuilder UseInvisibleRpc(this IApplicationBuilder app) => app.UseMiddleware<RpcMiddleware>();
}
