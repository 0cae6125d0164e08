using System.Diagnostics;
using Invisible.Data.Diagnostics;

namespace Invisible.Platform.Events;

/// <summary>
/// Trace context across the outbox: the writer's <c>traceparent</c> is stored with each event (<c>outbox.trace_parent</c>,
/// the CloudEvents <c>traceparent</c> extension in dapr mode), and each subscriber's span is a child of it, linked to the
/// dispatch that delivered it.
/// </summary>
public static class EventTracing
{
    /// <summary>The W3C <c>traceparent</c> of the current span; null when there is none (nothing listens) or it is not W3C.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>The span of one handler (consumer) handling one event: a child of the event's writer, linked to the dispatch.</summary>
    public static Activity? StartHandlerSpan(EventEnvelope envelope, string consumer)
    {
        if (!ProductDiagnostics.Source.HasListeners())
        {
            return null;
        }

        var links = Activity.Current is { } dispatch ? new[] { new ActivityLink(dispatch.Context) } : null;
        var parent = envelope.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, out var writer)
            ? writer
            : Activity.Current?.Context ?? default;
        var activity = ProductDiagnostics.Source.StartActivity("event.handle", ActivityKind.Consumer, parent, links: links);
        activity?.SetTag(ProductDiagnostics.TenantAttribute, envelope.TenantId.ToString());
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", envelope.Topic);
        activity?.SetTag("messaging.message.id", envelope.Id.ToString());
        activity?.SetTag("invisible.event.consumer", consumer);
        return activity;
    }
}
