using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Invisible.Platform.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// The app side of Dapr pub/sub (https://docs.dapr.io/reference/api/pubsub_api/): <c>GET /dapr/subscribe</c> lists a
/// programmatic subscription per topic this process handles, each with the <see cref="DeadLetterTopic"/>; Dapr then
/// POSTs CloudEvents to <c>/dapr/events/{topic}</c>, answered 200 with <c>SUCCESS</c>, <c>RETRY</c> (a handler failed)
/// or <c>DROP</c> (the event can never be handled), or 404 for a topic nobody here handles (Dapr drops it). Events
/// that exhaust Dapr's retries arrive on <c>/dapr/dead-letters</c> and are stored in the same dead-letter table as
/// embedded mode's, so one admin view and one redrive serve both modes.
/// </summary>
public static class DaprAppEndpoints
{
    public const string DeadLetterTopic = "dead-letters";
    public const string EventsRoute = "/dapr/events";
    public const string DeadLettersRoute = "/dapr/dead-letters";

    /// <summary>Maps the subscription endpoints; when <c>APP_API_TOKEN</c> is set, requests without it get 401.</summary>
    public static RouteGroupBuilder MapDaprSubscriptions(this IEndpointRouteBuilder endpoints)
    {
        var dapr = endpoints.MapGroup("/dapr").AddEndpointFilter(RequireAppApiToken);
        dapr.MapGet("/subscribe", (EventSubscriptions subscriptions) => Results.Json(Subscriptions(subscriptions), DaprJson.Options));
        dapr.MapPost("/events/{topic}", HandleEventAsync);
        dapr.MapPost("/dead-letters", StoreDeadLetterAsync);
        return dapr;
    }

    /// <summary>The programmatic subscriptions (the shape of <c>GET /dapr/subscribe</c>).</summary>
    public static IReadOnlyList<DaprSubscription> Subscriptions(EventSubscriptions subscriptions)
    {
        var topics = subscriptions.Topics
            .Select(topic => new DaprSubscription(DaprComponents.PubSub, topic, new DaprRoutes($"{EventsRoute}/{topic}"), DeadLetterTopic))
            .ToList();
        if (topics.Count > 0)
        {
            topics.Add(new DaprSubscription(DaprComponents.PubSub, DeadLetterTopic, new DaprRoutes(DeadLettersRoute), null));
        }

        return topics;
    }

    private static async Task<IResult> HandleEventAsync(
        string topic, HttpRequest request, EventSubscriptions subscriptions, EventDelivery delivery, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(DaprAppEndpoints));
        if (!subscriptions.For(topic).Any())
        {
            return Results.NotFound();
        }

        var envelope = await ReadEnvelopeAsync(request, logger, cancellationToken);
        if (envelope is null)
        {
            return Status(DaprDeliveryStatus.Drop);
        }

        try
        {
            await delivery.DeliverAsync(envelope with { Topic = topic }, cancellationToken);
            return Status(DaprDeliveryStatus.Success);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Handler failures are already logged by EventDelivery; infrastructure failures (database down) are not.
            logger.LogWarning(e, "Event {EventId} on '{Topic}' not handled; asking Dapr to retry", envelope.Id, topic);
            return Status(DaprDeliveryStatus.Retry);
        }
    }

    private static async Task<IResult> StoreDeadLetterAsync(HttpRequest request, DeadLetters deadLetters, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(DaprAppEndpoints));
        var envelope = await ReadEnvelopeAsync(request, logger, cancellationToken);
        if (envelope is null)
        {
            return Status(DaprDeliveryStatus.Drop);
        }

        try
        {
            await deadLetters.RecordAsync(envelope, "Dapr gave up after the resiliency policy's retries", cancellationToken);
            return Status(DaprDeliveryStatus.Success);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Dead letter {EventId} not stored; asking Dapr to retry", envelope.Id);
            return Status(DaprDeliveryStatus.Retry);
        }
    }

    /// <returns>The event, or null (logged) when the body is not an event this product can ever handle.</returns>
    private static async Task<EventEnvelope?> ReadEnvelopeAsync(HttpRequest request, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var cloudEvent = await JsonSerializer.DeserializeAsync<CloudEvent>(request.Body, DaprJson.Options, cancellationToken)
                ?? throw new CloudEventFormatException("the body is JSON null.");
            return cloudEvent.ToEnvelope();
        }
        catch (Exception e) when (e is JsonException or CloudEventFormatException)
        {
            logger.LogWarning("Dropping a delivery on {Path} that is not a usable CloudEvent: {Problem}", request.Path, e.Message);
            return null;
        }
    }

    private static IResult Status(string status) => Results.Json(new { status }, DaprJson.Options);

    private static async ValueTask<object?> RequireAppApiToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = context.HttpContext.RequestServices.GetRequiredService<IOptions<DaprOptions>>().Value.AppApiToken;
        if (!string.IsNullOrEmpty(expected))
        {
            var presented = context.HttpContext.Request.Headers[DaprSidecarClient.ApiTokenHeader].ToString();
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
            {
                return Results.Unauthorized();
            }
        }

        return await next(context);
    }
}

/// <summary>The statuses an app may answer a Dapr delivery with.</summary>
public static class DaprDeliveryStatus
{
    public const string Success = "SUCCESS";
    public const string Retry = "RETRY";
    public const string Drop = "DROP";
}

/// <summary>One entry of <c>GET /dapr/subscribe</c> (programmatic subscription, routes form).</summary>
public sealed record DaprSubscription(string PubsubName, string Topic, DaprRoutes Routes, string? DeadLetterTopic);

public sealed record DaprRoutes(string Default);
