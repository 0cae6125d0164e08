using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Platform.Events;

/// <summary>One handler subscribed to one topic.</summary>
/// <param name="Consumer">The inbox's name for this handler: stable across releases, unique in the product.</param>
/// <param name="Invoke">Deserialises the envelope's data and calls the handler resolved from the given scope.</param>
public sealed record EventSubscription(
    string Topic,
    Type EventType,
    Type HandlerType,
    string Consumer,
    Func<IServiceProvider, EventHandlingContext, CancellationToken, Task> Invoke);

/// <summary>Every handler registered with <see cref="EventHandlerRegistration.AddIntegrationEventHandler{TEvent, THandler}"/>.</summary>
public sealed class EventSubscriptions
{
    public EventSubscriptions(IEnumerable<EventSubscription> subscriptions)
    {
        All = subscriptions.ToList();
        var duplicate = All.GroupBy(s => s.Consumer, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            // Two handlers sharing an inbox name would each see the other's events as already handled.
            throw new InvalidOperationException($"Event consumer name '{duplicate.Key}' is registered more than once ({string.Join(", ", duplicate.Select(s => s.HandlerType.Name))}).");
        }
    }

    public IReadOnlyList<EventSubscription> All { get; }

    public IReadOnlyList<string> Topics => All.Select(s => s.Topic).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public IEnumerable<EventSubscription> For(string topic) => All.Where(s => s.Topic == topic);
}

public static class EventHandlerRegistration
{
    /// <summary>Subscribes <typeparamref name="THandler"/> to <typeparamref name="TEvent"/>'s topic.</summary>
    /// <param name="consumer">The inbox key of this handler; defaults to the handler's type name. Changing it makes
    /// the handler see already handled events as new.</param>
    public static IServiceCollection AddIntegrationEventHandler<TEvent, THandler>(this IServiceCollection services, string? consumer = null)
        where TEvent : IntegrationEvent
        where THandler : class, IIntegrationEventHandler<TEvent>
    {
        services.TryAddScoped<THandler>();
        services.AddSingleton(new EventSubscription(
            EventTopics.Of<TEvent>(),
            typeof(TEvent),
            typeof(THandler),
            consumer ?? typeof(THandler).Name,
            (scope, context, cancellationToken) =>
            {
                var integrationEvent = JsonSerializer.Deserialize<TEvent>(context.Envelope.Data, EventJson.Options)
                    ?? throw new JsonException($"Event {context.Envelope.Id} on '{context.Envelope.Topic}' has null data.");
                return scope.GetRequiredService<THandler>().HandleAsync(integrationEvent, context, cancellationToken);
            }));
        services.TryAddSingleton<EventSubscriptions>();
        return services;
    }
}
