
namespace Invisible.Server.Realtime;

public static class RealtimeServices
{
    /// <summary>Live updates: <c>EventService.Watch</c> fed by <see cref="LiveEventFeed"/>.</summary>
    public static IServiceCollection AddRealtime(this IServiceCollection services)
    {
        services.AddSingleton<LiveEventFeed>();
        services.AddHostedService(provider => provider.GetRequiredService<LiveEventFeed>());
        return services;
    }

    public static IEndpointRouteBuilder MapRealtime(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<EventServiceHandler>();
        return endpoints;
    }
}
