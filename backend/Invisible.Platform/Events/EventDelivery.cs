using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Invisible.Data.Tenancy;

namespace Invisible.Platform.Events;

/// <summary>
/// Hands an event to every handler subscribed to its topic in this process, each in its own transaction that first
/// writes the handler's inbox row (consumer, event id). An event already in a handler's inbox is skipped, so a
/// redelivery (a retry, the broker's at-least-once delivery, a dispatcher restart) has no second effect.
/// </summary>
public sealed class EventDelivery(EventSubscriptions subscriptions, TenantDatabase tenants, IServiceScopeFactory scopes, ILogger<EventDelivery> logger)
{
    public bool HasSubscribers(string topic) => subscriptions.For(topic).Any();

    /// <exception cref="EventDeliveryException">At least one handler failed; the others' effects are committed.</exception>
    public async Task DeliverAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        List<Exception>? failures = null;
        foreach (var subscription in subscriptions.For(envelope.Topic))
        {
            try
            {
                await DeliverAsync(envelope, subscription, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Handler {Consumer} failed on event {EventId} ({Topic})", subscription.Consumer, envelope.Id, envelope.Topic);
                (failures ??= []).Add(e);
            }
        }

        if (failures is not null)
        {
            throw new EventDeliveryException(envelope, failures);
        }
    }

    private async Task DeliverAsync(EventEnvelope envelope, EventSubscription subscription, CancellationToken cancellationToken)
    {
        // The handler runs as the event's tenant, under row-level security like any request of that tenant.
        await using var unitOfWork = await tenants.BeginAsync(envelope.TenantId, cancellationToken);
        var isNew = await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO inbox (tenant_id, consumer, event_id) VALUES (@TenantId, @Consumer, @EventId) ON CONFLICT DO NOTHING",
            new { envelope.TenantId, subscription.Consumer, EventId = envelope.Id },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken)) > 0;
        if (!isNew)
        {
            logger.LogDebug("Event {EventId} already handled by {Consumer}", envelope.Id, subscription.Consumer);
            return;
        }

        await using (var scope = scopes.CreateAsyncScope())
        {
            await subscription.Invoke(scope.ServiceProvider, new EventHandlingContext(envelope, unitOfWork), cancellationToken);
        }

        await unitOfWork.CommitAsync(cancellationToken);
    }
}

public sealed class EventDeliveryException(EventEnvelope envelope, IReadOnlyList<Exception> failures)
    : AggregateException($"{failures.Count} handler(s) failed on event {envelope.Id} ({envelope.Topic}): {failures[0].Message}", failures)
{
    public EventEnvelope Envelope { get; } = envelope;
}
