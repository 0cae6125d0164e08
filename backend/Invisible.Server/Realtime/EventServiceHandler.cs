using Invisible.Server.Notifications;
using Microsoft.AspNetCore.RateLimiting;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Events.V1;
using Invisible.Identity;
using Grpc.Core;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Realtime;

/// <summary><c>invisible.events.v1.EventService</c>: the caller's tenant's events, live. The tenant comes from the token.</summary>
public sealed class EventServiceHandler(LiveEventFeed feed, StreamSessions sessions)
    : EventService.EventServiceBase
{
    public const string StartedTopic = "watch.started";

    /// <summary>Every role reads its tenant's live updates; what a role may do with them is decided by the RPCs it acts through.</summary>
    [Authorize(Policy = AccessPolicies.Reader)]
    [EnableRateLimiting(RequestRateLimits.WatchStream)]
    public override async Task Watch(WatchRequest request, IServerStreamWriter<WatchEvent> responseStream, ServerCallContext context)
    {
        var caller = context.Caller();
        var topics = request.Topics.Count == 0 ? null : request.Topics.ToHashSet(StringComparer.Ordinal);
        await sessions.RunWhileValidAsync(context, async cancellationToken =>
        {
            using var subscription = await feed.SubscribeAsync(caller.TenantId, cancellationToken);
            await responseStream.WriteAsync(
                new WatchEvent { Id = Guid.NewGuid().ToString(), Topic = StartedTopic, OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), PayloadJson = "{}" },
                cancellationToken);
            await foreach (var liveEvent in subscription.Events.ReadAllAsync(cancellationToken))
            {
                // A notification is for one person only; the others of the tenant never see it.
                if ((topics is null || topics.Contains(liveEvent.Topic))
                    && (liveEvent.Topic != NotificationCreated.Topic || NotificationCreated.IsFor(liveEvent.PayloadJson, caller.UserId)))
                {
                    await responseStream.WriteAsync(
                        new WatchEvent
                        {
                            Id = liveEvent.Id.ToString(),
                            Topic = liveEvent.Topic,
                            OccurredAt = Timestamp.FromDateTimeOffset(liveEvent.OccurredAt),
                            PayloadJson = liveEvent.PayloadJson,
                            Position = liveEvent.Position,
                        },
                        cancellationToken);
                }
            }
        });
    }
}
