using Invisible.Contracts.Events.V1;
using Invisible.Rpc.Hosting;

namespace Invisible.Server.Realtime;

public static class RealtimeServices
{
    /// <summary>Live updates: <c>EventService.Watch</c> fed by <see cref="LiveEventFeed"/>.</summary>
    public static RpcBuilder AddRealtime(this RpcBuilder rpc)
    {
        rpc.Services.AddSingleton<LiveEventFeed>();
        rpc.Services.AddHostedService(provider => provider.GetRequiredService<LiveEventFeed>());
        return rpc.AddService<EventServiceHandler>(EventsReflection.Descriptor.Services[0]);
    }
}
