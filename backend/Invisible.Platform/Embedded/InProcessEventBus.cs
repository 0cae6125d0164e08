using Invisible.Platform.Events;

namespace Invisible.Platform.Embedded;

/// <summary>Embedded mode's bus: the subscribers live in this process, so publishing is delivering.</summary>
public sealed class InProcessEventBus(EventDelivery delivery) : IEventBus
{
    public Task PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken) => delivery.DeliverAsync(envelope, cancellationToken);

    public async Task<IReadOnlyDictionary<Guid, Exception>> PublishBatchAsync(IReadOnlyList<EventEnvelope> envelopes, CancellationToken cancellationToken) =>
        (await delivery.DeliverBatchAsync(envelopes, cancellationToken)).ToDictionary(failure => failure.Key, Exception (failure) => failure.Value);
}
