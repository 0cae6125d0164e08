using System.Reflection;
using System.Text.Json;

namespace Invisible.Platform.Events;

/// <summary>
/// Something that happened in one tenant and that other parts of the product react to. Concrete events are immutable
/// records marked with <see cref="IntegrationEventAttribute"/>, which names their topic.
/// </summary>
public abstract record IntegrationEvent(Guid Id, Guid TenantId, DateTimeOffset OccurredAt);

/// <summary>Names the pub/sub topic of an integration event, e.g. <c>[IntegrationEvent("invoice-matched")]</c>.</summary>
/// <remarks>The topic is part of the contract with other app instances and the broker: renaming the record must not change it.</remarks>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class IntegrationEventAttribute(string topic) : Attribute
{
    public string Topic { get; } = topic;
}

/// <summary>Reacts to one kind of event. Called at least once per event; the inbox makes the effect happen once.</summary>
public interface IIntegrationEventHandler<in TEvent>
    where TEvent : IntegrationEvent
{
    /// <param name="context">The transaction the handler's database effect must use, so it commits together with the inbox row.</param>
    Task HandleAsync(TEvent integrationEvent, EventHandlingContext context, CancellationToken cancellationToken);
}

/// <summary>
/// An event as it travels: through the outbox, the broker and the inbox. <paramref name="Data"/> is the event record as JSON.
/// <paramref name="TraceParent"/> is the W3C <c>traceparent</c> of the span that wrote the event (null when nothing was
/// traced): the dispatcher and every subscriber continue that trace, so a request and what its events cause are one trace.
/// </summary>
public sealed record EventEnvelope(Guid Id, string Topic, Guid TenantId, DateTimeOffset OccurredAt, string Data, string? TraceParent = null)
{
    public static EventEnvelope From(IntegrationEvent integrationEvent) => new(
        integrationEvent.Id,
        EventTopics.Of(integrationEvent.GetType()),
        integrationEvent.TenantId,
        integrationEvent.OccurredAt.ToUniversalTime(),
        JsonSerializer.Serialize(integrationEvent, integrationEvent.GetType(), EventJson.Options),
        EventTracing.CurrentTraceParent());
}

public static class EventTopics
{
    /// <exception cref="InvalidOperationException">The type has no <see cref="IntegrationEventAttribute"/>.</exception>
    public static string Of(Type eventType) =>
        eventType.GetCustomAttribute<IntegrationEventAttribute>()?.Topic
        ?? throw new InvalidOperationException($"{eventType.FullName} needs [IntegrationEvent(\"topic-name\")] to be published or handled.");

    public static string Of<TEvent>()
        where TEvent : IntegrationEvent => Of(typeof(TEvent));
}

/// <summary>The one JSON convention of event payloads, for the outbox, CloudEvents and handlers alike.</summary>
public static class EventJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
