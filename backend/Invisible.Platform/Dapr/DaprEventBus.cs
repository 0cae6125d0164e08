using System.Net.Http.Headers;
using System.Text.Json;
using Invisible.Platform.Events;

namespace Invisible.Platform.Dapr;

/// <summary>
/// Dapr mode's bus: <c>POST /v1.0/publish/pubsub/{topic}</c> with the event as a structured CloudEvent, which Dapr
/// forwards as is (keeping its id, so consumers' inboxes recognise redeliveries). The tenant id is the partition key,
/// which keeps one tenant's events in order on brokers that partition (Kafka, Event Hubs).
/// </summary>
public sealed class DaprEventBus(DaprSidecarClient sidecar) : IEventBus
{
    public async Task PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(CloudEvent.From(envelope), DaprJson.Options);
        var path = $"v1.0/publish/{DaprComponents.PubSub}/{Uri.EscapeDataString(envelope.Topic)}?metadata.partitionKey={envelope.TenantId}";
        using var response = await sidecar.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue(CloudEvent.MediaType) } },
            },
            cancellationToken);
        await DaprSidecarClient.EnsureSuccessAsync(response, $"publish of event {envelope.Id} to '{envelope.Topic}'", cancellationToken);
    }

    /// <remarks>
    /// One request per event, in order: Dapr's bulk publish API is still alpha, and publishing one tenant's events one after
    /// the other keeps them in order on the broker.
    /// </remarks>
    public async Task<IReadOnlyDictionary<Guid, Exception>> PublishBatchAsync(IReadOnlyList<EventEnvelope> envelopes, CancellationToken cancellationToken)
    {
        Dictionary<Guid, Exception>? failures = null;
        foreach (var envelope in envelopes)
        {
            try
            {
                await PublishAsync(envelope, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                (failures ??= [])[envelope.Id] = e;
            }
        }

        return failures ?? (IReadOnlyDictionary<Guid, Exception>)new Dictionary<Guid, Exception>();
    }
}
