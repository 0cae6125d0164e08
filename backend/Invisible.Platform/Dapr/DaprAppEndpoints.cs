using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapr;
using Invisible.Platform.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// The app side of Dapr pub/sub, with Dapr.AspNetCore: one endpoint per topic this process handles, declared with
/// <c>WithTopic</c> (and the <see cref="DeadLetterTopic"/>), listed by <c>MapSubscribeHandler</c> at
/// <c>GET /dapr/subscribe</c>; <c>UseCloudEvents</c> unwraps each delivered CloudEvent into its data and forwards the
/// envelope's attributes as <c>Cloudevent.*</c> headers. A delivery is answered with <c>SUCCESS</c>, <c>RETRY</c> (a
/// handler failed) or <c>DROP</c> (the event can never be handled); a topic nobody here handles has no endpoint, so 404
/// (Dapr drops it). Events that exhaust Dapr's retries arrive on <c>/dapr/dead-letters</c> and are stored in the same
/// dead-letter table as embedded mode's, so one admin view and one redrive serve both modes.
/// Everything under <c>/dapr</c> is served only to the sidecar: from loopback, with <c>APP_API_TOKEN</c>.
/// </summary>
public static class DaprAppEndpoints
{
    public const string DeadLetterTopic = "dead-letters";
    public const string CallbackPrefix = "/dapr";
    public const string EventsRoute = "/dapr/events";
    public const string DeadLettersRoute = "/dapr/dead-letters";
    public const string ApiTokenHeader = "dapr-api-token";

    /// <summary>The CloudEvent attributes the handlers need, forwarded by <c>UseCloudEvents</c> as <c>Cloudevent.{name}</c> headers.</summary>
    private static readonly string[] ForwardedAttributes = ["specversion", "id", "type", "time", "tenantid", "traceparent", "writertraceparent", "topic"];

    /// <summary>
    /// The middleware of the app channel, limited to <c>/dapr</c>: refuses callers other than the sidecar, then unwraps
    /// CloudEvents. Call before the endpoints run (any place in a <see cref="WebApplication"/>'s pipeline).
    /// </summary>
    public static IApplicationBuilder UseDaprAppCallbacks(this IApplicationBuilder app) =>
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments(CallbackPrefix),
            callbacks => callbacks
                .Use(OnlyFromTheSidecar)
                .UseCloudEvents(new CloudEventsMiddlewareOptions
                {
                    ForwardCloudEventPropertiesAsHeaders = true,
                    IncludedCloudEventPropertiesAsHeaders = ForwardedAttributes,
                }));

    /// <summary>Maps a subscription endpoint per topic with a handler in this process, the dead-letter endpoint and <c>/dapr/subscribe</c>.</summary>
    public static IEndpointRouteBuilder MapDaprAppCallbacks(this IEndpointRouteBuilder endpoints)
    {
        var topics = endpoints.ServiceProvider.GetRequiredService<EventSubscriptions>().Topics;
        foreach (var topic in topics)
        {
            endpoints.MapPost($"{EventsRoute}/{topic}", (HttpRequest request, EventDelivery delivery, ILoggerFactory loggers, CancellationToken cancellationToken) =>
                    HandleEventAsync(topic, request, delivery, loggers, cancellationToken))
                .WithTopic(new TopicOptions { PubsubName = DaprComponents.PubSub, Name = topic, DeadLetterTopic = DeadLetterTopic });
        }

        if (topics.Count > 0)
        {
            endpoints.MapPost(DeadLettersRoute, StoreDeadLetterAsync).WithTopic(DaprComponents.PubSub, DeadLetterTopic);
        }

        endpoints.MapSubscribeHandler();
        return endpoints;
    }

    private static async Task<IResult> HandleEventAsync(
        string topic, HttpRequest request, EventDelivery delivery, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(DaprAppEndpoints));
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

    /// <summary>
    /// The envelope from what <c>UseCloudEvents</c> left: the data as the body (already decoded from <c>data_base64</c>),
    /// the attributes as headers.
    /// </summary>
    /// <returns>The event, or null (logged) when the request is not an event this product can ever handle.</returns>
    private static async Task<EventEnvelope?> ReadEnvelopeAsync(HttpRequest request, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            using var data = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            var cloudEvent = new CloudEvent
            {
                SpecVersion = Attribute(request, "specversion") ?? "",
                Id = Attribute(request, "id") ?? "",
                Source = CloudEvent.ProductSource,
                Type = Attribute(request, "type") ?? "",
                Time = Attribute(request, "time") is { } time
                    ? DateTimeOffset.Parse(time, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
                    : null,
                DataContentType = request.ContentType,
                Data = data.RootElement.Clone(),
                TenantId = Attribute(request, "tenantid"),
                TraceParent = Attribute(request, "traceparent"),
                WriterTraceParent = Attribute(request, "writertraceparent"),
                Topic = Attribute(request, "topic"),
            };
            return cloudEvent.ToEnvelope();
        }
        catch (Exception e) when (e is JsonException or CloudEventFormatException or FormatException)
        {
            logger.LogWarning("Dropping a delivery on {Path} that is not a usable CloudEvent: {Problem}", request.Path, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The middleware forwards the attribute's raw JSON text without the quotes, escapes included (a publisher's encoder
    /// may write <c>+</c> in a time as <c>\u002B</c>), so the value is read back as the JSON string it was.
    /// </summary>
    private static string? Attribute(HttpRequest request, string name)
    {
        if (request.Headers[$"Cloudevent.{name}"] is not { Count: > 0 } values)
        {
            return null;
        }

        var raw = values.ToString();
        return raw.Contains('\\', StringComparison.Ordinal) ? JsonSerializer.Deserialize<string>($"\"{raw}\"") : raw;
    }

    private static IResult Status(string status) => Results.Json(new { status }, DaprJson.Options);

    /// <summary>
    /// The sidecar shares the app's network namespace (same pod, same compose service, same host under <c>dapr run</c>), so
    /// a caller from elsewhere is not it: such requests see no endpoint at all. The sidecar proves itself with APP_API_TOKEN.
    /// </summary>
    private static async Task OnlyFromTheSidecar(HttpContext context, RequestDelegate next)
    {
        if (context.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var expected = context.RequestServices.GetRequiredService<IOptions<DaprOptions>>().Value.AppApiToken;
        var presented = context.Request.Headers[ApiTokenHeader].ToString();
        if (string.IsNullOrEmpty(expected)
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        await next(context);
    }
}

/// <summary>The statuses an app may answer a Dapr delivery with.</summary>
public static class DaprDeliveryStatus
{
    public const string Success = "SUCCESS";
    public const string Retry = "RETRY";
    public const string Drop = "DROP";
}
