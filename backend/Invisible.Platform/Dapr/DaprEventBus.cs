using System.Text.Json;
using Dapr.Client;
using Invisible.Platform.Events;

namespace Invisible.Platform.Dapr;

/// <summary>
/// Dapr mode's bus: publishes each event as a structured CloudEvent (<c>application/cloudevents+json</c>), which Dapr
/// forwards as is (keeping its id, so consumers' inboxes recognise redeliveries). The tenant id is the partition key,
/// which keeps one tenant's events in order on brokers that partition (Kafka, Event Hubs). A failed publish is not
/// retried here: the sidecar's resiliency policy retries the broker, and the outbox dispatcher retries the event.
/// </summary>
public sealed class DaprEventBus(DaprClient dapr) : IEventBus
{
    public const string PartitionKeyMetadata = "partitionKey";

    public async Task PublishAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(CloudEvent.From(envelope), DaprJson.Options);
        var metadata = new Dictionary<string, string> { [PartitionKeyMetadata] = envelope.TenantId.ToString() };
        await dapr.PublishByteEventAsync(DaprComponents.PubSub, envelope.Topic, body, CloudEvent.MediaType, metadata, cancellationToken);
    }

    /// <remarks>
    /// One call per event, in order: Dapr's bulk publish API is still alpha, and publishing one tenant's events one after
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

/// <summary>
/// The JSON convention of the CloudEvents this product writes: camelCase, nulls left out, and no HTML-safe escaping
/// (the events never reach a web page, and an attribute like <c>time</c> should read "+00:00", not "\u002B00:00").
/// </summary>
public static class DaprJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
