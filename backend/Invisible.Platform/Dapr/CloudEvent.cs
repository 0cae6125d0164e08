using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Invisible.Platform.Events;

namespace Invisible.Platform.Dapr;

/// <summary>
/// A CloudEvents 1.0 event in the structured JSON format (https://github.com/cloudevents/spec, json-format.md), as the
/// product publishes it and as Dapr delivers it. <see cref="Type"/> is the topic the event was first published to, so
/// an event read from a dead-letter topic still says where it belongs. <see cref="TenantId"/> and <see cref="TraceParent"/> are
/// extension attributes.
/// </summary>
public sealed record CloudEvent
{
    public const string SpecVersion1 = "1.0";
    public const string MediaType = "application/cloudevents+json";
    public const string ProductSource = "urn:invisible";

    [JsonPropertyName("specversion")]
    public string SpecVersion { get; init; } = SpecVersion1;

    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("time")]
    public DateTimeOffset? Time { get; init; }

    [JsonPropertyName("datacontenttype")]
    public string? DataContentType { get; init; }

    [JsonPropertyName("data")]
    public JsonElement? Data { get; init; }

    [JsonPropertyName("data_base64")]
    public string? DataBase64 { get; init; }

    [JsonPropertyName("tenantid")]
    public string? TenantId { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the request that wrote the event (CloudEvents distributed tracing extension), so the
    /// subscriber's span continues that trace.
    /// </summary>
    [JsonPropertyName("traceparent")]
    public string? TraceParent { get; init; }

    /// <summary>
    /// The writer's <c>traceparent</c> again: Dapr overwrites <see cref="TraceParent"/> with the trace of the publish call
    /// (the outbox dispatch) when it forwards an event, so the subscriber continues the writer's trace from this one.
    /// </summary>
    [JsonPropertyName("writertraceparent")]
    public string? WriterTraceParent { get; init; }

    /// <summary>Dapr adds the topic it delivered from (the dead-letter topic for dead letters).</summary>
    [JsonPropertyName("topic")]
    public string? Topic { get; init; }

    public static CloudEvent From(EventEnvelope envelope)
    {
        using var data = JsonDocument.Parse(envelope.Data);
        return new CloudEvent
        {
            Id = envelope.Id.ToString(),
            Source = ProductSource,
            Type = envelope.Topic,
            Time = envelope.OccurredAt,
            DataContentType = "application/json",
            Data = data.RootElement.Clone(),
            TenantId = envelope.TenantId.ToString(),
            TraceParent = envelope.TraceParent,
            WriterTraceParent = envelope.TraceParent,
        };
    }

    /// <exception cref="CloudEventFormatException">Not an event this product can handle; retrying will not change that.</exception>
    public EventEnvelope ToEnvelope()
    {
        if (SpecVersion != SpecVersion1)
        {
            throw new CloudEventFormatException($"specversion '{SpecVersion}' is not supported (expected 1.0).");
        }

        if (!Guid.TryParse(Id, out var id))
        {
            throw new CloudEventFormatException($"id '{Id}' is not a UUID.");
        }

        if (!Guid.TryParse(TenantId, out var tenantId))
        {
            throw new CloudEventFormatException($"event {Id}: extension 'tenantid' is missing or not a UUID.");
        }

        if (DataContentType is not null && !DataContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new CloudEventFormatException($"event {Id}: datacontenttype '{DataContentType}' is not application/json.");
        }

        return new EventEnvelope(id, Type, tenantId, (Time ?? DateTimeOffset.UtcNow).ToUniversalTime(), DataAsJson(), WriterTraceParent ?? TraceParent);
    }

    private string DataAsJson()
    {
        if (DataBase64 is not null)
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(DataBase64));
            }
            catch (FormatException e)
            {
                throw new CloudEventFormatException($"event {Id}: data_base64 is not base64.", e);
            }
        }

        return Data switch
        {
            null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => throw new CloudEventFormatException($"event {Id} has no data."),

            // A JSON payload sent as text (e.g. by a publisher that did not set the content type) arrives as a string.
            { ValueKind: JsonValueKind.String } text => text.GetString()!,
            { } json => json.GetRawText(),
        };
    }
}

public sealed class CloudEventFormatException(string message, Exception? inner = null) : Exception(message, inner);
