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
}
