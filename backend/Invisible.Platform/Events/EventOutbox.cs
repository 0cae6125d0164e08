using LinqToDB.Data;
using Invisible.Data.Tenancy;

namespace Invisible.Platform.Events;

/// <summary>
/// Writes integration events into the <c>outbox</c> table inside the caller's unit of work, so an event exists if and
/// only if the change that caused it was committed. The table's insert trigger NOTIFYs the dispatcher on commit.
/// </summary>
public static class EventOutbox
{
    /// <summary>The channel of the outbox trigger (schema v1); the payload is the tenant id.</summary>
    public const string NotificationChannel = "invisible_outbox";

    public static async Task EnqueueAsync(TenantUnitOfWork unitOfWork, IntegrationEvent integrationEvent, CancellationToken cancellationToken)
    {
        if (integrationEvent.TenantId != unitOfWork.TenantId)
        {
            throw new ArgumentException(
                $"Event {integrationEvent.Id} belongs to tenant {integrationEvent.TenantId} but the unit of work is tenant {unitOfWork.TenantId}.",
                nameof(integrationEvent));
        }

        var envelope = EventEnvelope.From(integrationEvent);
        const string sql = """
            INSERT INTO outbox (id, tenant_id, topic, event_type, payload, occurred_at, trace_parent)
            VALUES (@Id, @TenantId, @Topic, @EventType, @Data::jsonb, @OccurredAt, @TraceParent)
            """;
        // SQL: the payload is cast to jsonb in the statement, and the insert fires the commit notification trigger.
        await unitOfWork.Db.ExecuteAsync(
            sql, new
            {
                envelope.Id,
                envelope.TenantId,
                envelope.Topic,
                EventType = integrationEvent.GetType().Name,
                envelope.Data,
                envelope.OccurredAt,
                envelope.TraceParent,
            }, cancellationToken);
    }
}
