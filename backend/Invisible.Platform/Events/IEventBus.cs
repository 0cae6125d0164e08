namespace Invisible.Platform.Events;

/// <summary>
/// Carries an event from the outbox to its subscribers: in-process handlers (embedded) or the Dapr pub/sub component
/// (dapr). Only the outbox dispatcher calls it; domain code writes events with <see cref="EventOutbox.EnqueueAsync"/>.
/// </summary>
public interface IEventBus
{
    /// <summary>Completes when every subscriber has the event (embedded) or the broker has accepted it (dapr).</summary>
    Task PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes events in the given (outbox) order; an event that fails does not keep the others from being delivered.
    /// </summary>
    /// <returns>The failure of each event that was not delivered, by event id; empty when every event was.</returns>
    Task<IReadOnlyDictionary<Guid, Exception>> PublishBatchAsync(IReadOnlyList<EventEnvelope> envelopes, CancellationToken cancellationToken);
}
