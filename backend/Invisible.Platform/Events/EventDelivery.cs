using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Invisible.Data.Tenancy;

namespace Invisible.Platform.Events;

/// <summary>
/// Hands events to every handler subscribed to their topic in this process. Each handler (consumer) gets one transaction
/// per tenant for a whole batch: it first writes the consumer's inbox rows (consumer, event id) in one statement, then runs
/// the handler once per new event, each behind a savepoint. An event already in a consumer's inbox is skipped, so a
/// redelivery (a retry, the broker's at-least-once delivery, a dispatcher restart) has no second effect; a handler that
/// fails on one event is rolled back to its savepoint together with that event's inbox row, and the rest of the batch
/// commits.
/// </summary>
public sealed class EventDelivery(EventSubscriptions subscriptions, TenantDatabase tenants, IServiceScopeFactory scopes, ILogger<EventDelivery> logger)
{
    private const string HandlerSavepoint = "event_handler";

    public bool HasSubscribers(string topic) => subscriptions.For(topic).Any();

    /// <exception cref="EventDeliveryException">At least one handler failed; the others' effects are committed.</exception>
    public async Task DeliverAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var failures = await DeliverBatchAsync([envelope], cancellationToken);
        if (failures.TryGetValue(envelope.Id, out var failure))
        {
            throw failure;
        }
    }

    /// <summary>Delivers events (of any tenants) in the given order to each of their handlers.</summary>
    /// <returns>The events at least one handler failed on; every other handler's effect is committed.</returns>
    public async Task<IReadOnlyDictionary<Guid, EventDeliveryException>> DeliverBatchAsync(IReadOnlyList<EventEnvelope> envelopes, CancellationToken cancellationToken)
    {
        var failures = new Dictionary<Guid, List<Exception>>();
        foreach (var tenantEvents in envelopes.GroupBy(envelope => envelope.TenantId))
        {
            foreach (var subscription in subscriptions.All)
            {
                var events = tenantEvents.Where(envelope => envelope.Topic == subscription.Topic).ToList();
                if (events.Count > 0)
                {
                    await DeliverToConsumerAsync(tenantEvents.Key, subscription, events, failures, cancellationToken);
                }
            }
        }

        return envelopes
            .Where(envelope => failures.ContainsKey(envelope.Id))
            .ToDictionary(envelope => envelope.Id, envelope => new EventDeliveryException(envelope, failures[envelope.Id]));
    }

    private async Task DeliverToConsumerAsync(
        Guid tenantId, EventSubscription subscription, List<EventEnvelope> events, Dictionary<Guid, List<Exception>> failures, CancellationToken cancellationToken)
    {
        var failed = new List<(EventEnvelope Envelope, Exception Error)>();
        try
        {
            // The handler runs as the events' tenant, under row-level security like any request of that tenant.
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);

            // Sorted ids: two deliveries of overlapping batches take the inbox's row locks in the same order.
            const string claimInbox = """
                INSERT INTO inbox (tenant_id, consumer, event_id)
                SELECT @TenantId, @Consumer, event_id FROM unnest(@EventIds) AS event_id ORDER BY event_id
                ON CONFLICT DO NOTHING
                RETURNING event_id
                """;
            // SQL: claims the inbox set-based (insert ... select unnest ... on conflict do nothing returning).
            var fresh = (await unitOfWork.Db.QueryToListAsync<Guid>(
                claimInbox, new { TenantId = tenantId, subscription.Consumer, EventIds = events.Select(envelope => envelope.Id).Distinct().ToArray() }, cancellationToken)).ToHashSet();

            foreach (var envelope in events)
            {
                if (!fresh.Remove(envelope.Id))
                {
                    logger.LogDebug("Event {EventId} already handled by {Consumer}", envelope.Id, subscription.Consumer);
                    continue;
                }

                // Savepoints stack up instead of being released after each success: releasing would cost a round trip per
                // event, and the commit releases them all. ROLLBACK TO names the newest one, which is this event's.
                await unitOfWork.Transaction.SaveAsync(HandlerSavepoint, cancellationToken);
                using var span = EventTracing.StartHandlerSpan(envelope, subscription.Consumer);
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await subscription.Invoke(scope.ServiceProvider, new EventHandlingContext(envelope, unitOfWork), cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.GetType().Name);
                    logger.LogWarning(e, "Handler {Consumer} failed on event {EventId} ({Topic})", subscription.Consumer, envelope.Id, envelope.Topic);
                    await unitOfWork.Transaction.RollbackAsync(HandlerSavepoint, cancellationToken);
                    await unitOfWork.Db.GetTable<InboxRow>()
                        .Where(row => row.Consumer == subscription.Consumer && row.EventId == envelope.Id)
                        .DeleteAsync(cancellationToken);
                    failed.Add((envelope, e));
                }
            }

            await unitOfWork.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The consumer's transaction is lost (the database went away, the commit failed): none of its effects happened.
            logger.LogWarning(e, "Handler {Consumer} could not handle {Count} event(s) of tenant {TenantId}", subscription.Consumer, events.Count, tenantId);
            failed = events.Select(envelope => (envelope, e)).ToList();
        }

        foreach (var (envelope, error) in failed)
        {
            if (!failures.TryGetValue(envelope.Id, out var errors))
            {
                failures[envelope.Id] = errors = [];
            }

            errors.Add(error);
        }
    }

    /// <summary>A consumer's claim on an event (row-level security keeps it to the tenant).</summary>
    [Table("inbox")]
    private sealed class InboxRow
    {
        [Column("tenant_id")] public Guid TenantId { get; init; }

        [Column("consumer")] public string Consumer { get; init; } = "";

        [Column("event_id")] public Guid EventId { get; init; }
    }
}

public sealed class EventDeliveryException(EventEnvelope envelope, IReadOnlyList<Exception> failures)
    : AggregateException($"{failures.Count} handler(s) failed on event {envelope.Id} ({envelope.Topic}): {failures[0].Message}", failures)
{
    public EventEnvelope Envelope { get; } = envelope;
}
