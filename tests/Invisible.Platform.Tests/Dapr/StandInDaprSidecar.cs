using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>
/// A stand-in for daprd, which cannot run here: a real HTTP server on loopback that implements the part of the
/// published Dapr HTTP API the product uses (https://docs.dapr.io/reference/api/) — publish, state (ETags, TTL,
/// transactions), secrets, the localstorage-style <c>blobstore</c> binding, the smtp-style <c>email</c> binding and
/// <c>healthz/outbound</c> — and records every call. With <see cref="DeliverTo"/> it also plays the broker: it reads the
/// app's <c>/dapr/subscribe</c> and POSTs published CloudEvents to the subscribed route, retrying on RETRY and
/// forwarding to the dead-letter topic after <see cref="MaxDeliveryAttempts"/>, as Dapr's pub/sub does.
/// </summary>
public sealed class StandInDaprSidecar : IAsyncDisposable
{
    public const string BlobRootPath = "/data/blobs";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (string Json, string ETag, DateTimeOffset? ExpiresAt)> _state = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly HttpClient _appClient = new();
    private readonly object _stateLock = new();
    private int _etagSequence;
    private int _healthProbes;

    private StandInDaprSidecar(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public int Port => Address.Port;

    /// <summary>When set, every call must carry it as <c>dapr-api-token</c> (DAPR_API_TOKEN), else 401.</summary>
    public string? ApiToken { get; init; }

    /// <summary>The app's base address; published events are delivered there.</summary>
    public Uri? DeliverTo { get; set; }

    /// <summary>Sent to the app as <c>dapr-api-token</c> (APP_API_TOKEN).</summary>
    public string? AppApiToken { get; set; }

    public int MaxDeliveryAttempts { get; set; } = 3;

    /// <summary><c>healthz/outbound</c> answers 500 to this many probes before answering 204.</summary>
    public int UnhealthyProbes { get; set; }

    /// <summary>The next this-many calls to a publish endpoint answer 500 (a broker hiccup).</summary>
    public int FailNextPublishes { get; set; }

    public Dictionary<string, string> Secrets { get; } = new();

    public ConcurrentQueue<RecordedCall> Calls { get; } = new();

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public static async Task<StandInDaprSidecar> StartAsync(string? apiToken = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sidecar = new StandInDaprSidecar(app) { ApiToken = apiToken };
        sidecar.Map(app);
        await app.StartAsync();
        sidecar.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return sidecar;
    }

    public IEnumerable<RecordedCall> CallsTo(string pathPrefix) => Calls.Where(c => c.Path.StartsWith(pathPrefix, StringComparison.Ordinal));

    /// <summary>Waits until <paramref name="condition"/> holds over the deliveries made so far.</summary>
    public async Task WaitForDeliveriesAsync(Func<IReadOnlyList<Delivery>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(Deliveries.ToList()))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Deliveries so far: {string.Join("; ", Deliveries)}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _appClient.Dispose();
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body, Encoding.UTF8).ReadToEndAsync();
            context.Request.Body.Position = 0;
            Calls.Enqueue(new RecordedCall(
                context.Request.Method,
                context.Request.Path.Value!,
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body));
            if (ApiToken is not null && context.Request.Headers["dapr-api-token"] != ApiToken)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });

        app.MapGet("/v1.0/healthz/outbound", () =>
            Interlocked.Increment(ref _healthProbes) > UnhealthyProbes ? Results.NoContent() : Results.StatusCode(500));

        app.MapPost("/v1.0/publish/{pubsub}/{topic}", (string pubsub, string topic, HttpRequest request) => Publish(pubsub, topic, request));

        app.MapGet("/v1.0/state/{store}/{key}", (string store, string key, HttpResponse response) => GetState(store, key, response));
        app.MapPost("/v1.0/state/{store}", async (string store, HttpRequest request) =>
        {
            var items = await request.ReadFromJsonAsync<JsonArray>();
            return WithStore(store, () => ApplyAtomically(items!.Select(item => ("upsert", item!.AsObject())).ToList()));
        });
        app.MapDelete("/v1.0/state/{store}/{key}", (string store, string key, HttpRequest request) =>
        {
            var etag = request.Headers.IfMatch.ToString();
            var item = new JsonObject { ["key"] = key, ["etag"] = etag.Length > 0 ? etag : null };
            return WithStore(store, () => ApplyAtomically([("delete", item)]));
        });
        app.MapPost("/v1.0/state/{store}/transaction", async (string store, HttpRequest request) =>
        {
            var body = await request.ReadFromJsonAsync<JsonObject>();
            var operations = body!["operations"]!.AsArray()
                .Select(o => (o!["operation"]!.GetValue<string>(), o["request"]!.AsObject()))
                .ToList();
            return WithStore(store, () => ApplyAtomically(operations));
        });

        app.MapGet("/v1.0/secrets/{store}/{name}", (string store, string name) =>
            store != DaprComponents.SecretStore ? DaprError(400, "ERR_SECRET_STORE_NOT_FOUND", $"secret store {store} not found")
            : Secrets.TryGetValue(name, out var value) ? Results.Json(new Dictionary<string, string> { [name] = value })
            : DaprError(500, "ERR_SECRET_GET", $"failed getting secret with key {name} from secret store {store}: secret {name} not found"));

        app.MapPost("/v1.0/bindings/{name}", async (string name, HttpRequest request) =>
        {
            var body = (await request.ReadFromJsonAsync<JsonObject>())!;
            return name switch
            {
                DaprComponents.BlobStore => LocalStorage(body),
                DaprComponents.Email => body["operation"]?.GetValue<string>() == "create" ? Results.NoContent() : DaprError(500, "ERR_INVOKE_OUTPUT_BINDING", "unsupported operation"),
                _ => DaprError(400, "ERR_INVOKE_OUTPUT_BINDING", $"couldn't find output binding {name}"),
            };
        });
    }

    private IResult Publish(string pubsub, string topic, HttpRequest request)
    {
        if (pubsub != DaprComponents.PubSub)
        {
            return DaprError(404, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsub} not found");
        }

        if (FailNextPublishes > 0)
        {
            FailNextPublishes--;
            return DaprError(500, "ERR_PUBSUB_PUBLISH_MESSAGE", "error when publish to topic: broker unavailable");
        }

        if (DeliverTo is not null)
        {
            var cloudEvent = JsonNode.Parse(Calls.Last(c => c.Path == request.Path.Value).Body)!.AsObject();

            // Dapr adds these attributes when it forwards a structured CloudEvent.
            cloudEvent["pubsubname"] = pubsub;
            cloudEvent["topic"] = topic;
            _ = Task.Run(() => DeliverAsync(topic, cloudEvent));
        }

        return Results.NoContent();
    }

    private async Task DeliverAsync(string topic, JsonObject cloudEvent)
    {
        var subscriptions = await GetJsonAsync<JsonArray>("dapr/subscribe");
        var subscription = subscriptions.FirstOrDefault(s => s!["topic"]!.GetValue<string>() == topic);
        if (subscription is null)
        {
            Deliveries.Enqueue(new Delivery(topic, cloudEvent["id"]!.GetValue<string>(), 0, "no subscription"));
            return;
        }

        var route = subscription["routes"]!["default"]!.GetValue<string>();
        for (var attempt = 1; attempt <= MaxDeliveryAttempts; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(DeliverTo!, route))
            {
                Content = new StringContent(cloudEvent.ToJsonString(), Encoding.UTF8, "application/cloudevents+json"),
            };
            if (AppApiToken is not null)
            {
                request.Headers.Add("dapr-api-token", AppApiToken);
            }

            using var response = await _appClient.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var status = response.StatusCode == HttpStatusCode.OK && text.Length > 0
                ? JsonNode.Parse(text)!["status"]?.GetValue<string>() ?? "SUCCESS"
                : response.StatusCode == HttpStatusCode.OK ? "SUCCESS" : ((int)response.StatusCode).ToString();
            Deliveries.Enqueue(new Delivery(topic, cloudEvent["id"]!.GetValue<string>(), attempt, status));

            // Per the pub/sub API: SUCCESS or DROP end delivery, 404 drops, RETRY and any other status retry.
            if (status is "SUCCESS" or "DROP" or "404")
            {
                return;
            }
        }

        if (subscription["deadLetterTopic"]?.GetValue<string>() is { } deadLetterTopic)
        {
            var deadLetter = cloudEvent.DeepClone().AsObject();
            deadLetter["topic"] = deadLetterTopic;
            await DeliverAsync(deadLetterTopic, deadLetter);
        }
    }

    private async Task<T> GetJsonAsync<T>(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(DeliverTo!, path));
        if (AppApiToken is not null)
        {
            request.Headers.Add("dapr-api-token", AppApiToken);
        }

        using var response = await _appClient.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    private IResult GetState(string store, string key, HttpResponse response)
    {
        if (store != DaprComponents.StateStore)
        {
            return DaprError(400, "ERR_STATE_STORE_NOT_FOUND", $"state store {store} is not found");
        }

        if (!_state.TryGetValue(key, out var entry) || IsExpired(entry.ExpiresAt))
        {
            return Results.NoContent();
        }

        response.Headers.ETag = entry.ETag;
        return Results.Text(entry.Json, "application/json");
    }

    private static IResult WithStore(string store, Func<IResult> action) =>
        store != DaprComponents.StateStore ? DaprError(400, "ERR_STATE_STORE_NOT_FOUND", $"state store {store} is not found") : action();

    /// <summary>All operations or none, as a transactional store does; a stale ETag fails with 409 as the runtime answers.</summary>
    private IResult ApplyAtomically(IReadOnlyList<(string Operation, JsonObject Request)> operations)
    {
        lock (_stateLock)
        {
            foreach (var (_, request) in operations)
            {
                var key = request["key"]!.GetValue<string>();
                if (request["etag"]?.GetValue<string>() is { Length: > 0 } etag
                    && (!_state.TryGetValue(key, out var current) || IsExpired(current.ExpiresAt) || current.ETag != etag))
                {
                    return DaprError(409, "ERR_STATE_SAVE", $"failed saving state in state store statestore: possible etag mismatch for key {key}");
                }
            }

            foreach (var (operation, request) in operations)
            {
                var key = request["key"]!.GetValue<string>();
                if (operation == "delete")
                {
                    _state.TryRemove(key, out _);
                    continue;
                }

                var ttl = request["metadata"]?["ttlInSeconds"]?.GetValue<string>();
                var expiresAt = ttl is null ? (DateTimeOffset?)null : DateTimeOffset.UtcNow.AddSeconds(double.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture));
                _state[key] = (request["value"]!.ToJsonString(), Interlocked.Increment(ref _etagSequence).ToString(System.Globalization.CultureInfo.InvariantCulture), expiresAt);
            }
        }

        return Results.NoContent();
    }

    private static bool IsExpired(DateTimeOffset? expiresAt) => expiresAt is { } at && at <= DateTimeOffset.UtcNow;

    /// <summary>bindings.localstorage: base64 data decoded on create, absolute paths on list, "file not found" errors.</summary>
    private IResult LocalStorage(JsonObject body)
    {
        var operation = body["operation"]!.GetValue<string>();
        var fileName = body["metadata"]?["fileName"]?.GetValue<string>();
        switch (operation)
        {
            case "create":
                var data = body["data"]!.GetValue<string>();
                try
                {
                    _blobs[fileName!] = Convert.FromBase64String(data);
                }
                catch (FormatException)
                {
                    _blobs[fileName!] = Encoding.UTF8.GetBytes(data);
                }

                return Results.Json(new { fileName });
            case "get":
                return _blobs.TryGetValue(fileName!, out var content)
                    ? Results.Bytes(content)
                    : DaprError(500, "ERR_INVOKE_OUTPUT_BINDING", $"error invoking output binding blobstore: file not found: {BlobRootPath}/{fileName}");
            case "list":
                return Results.Json(_blobs.Keys.Select(name => $"{BlobRootPath}/{name}").ToList());
            case "delete":
                return _blobs.TryRemove(fileName!, out _)
                    ? Results.NoContent()
                    : DaprError(500, "ERR_INVOKE_OUTPUT_BINDING", $"error invoking output binding blobstore: error deleting file {BlobRootPath}/{fileName}: remove: no such file or directory");
            default:
                return DaprError(500, "ERR_INVOKE_OUTPUT_BINDING", $"unsupported operation {operation}");
        }
    }

    private static IResult DaprError(int status, string errorCode, string message) =>
        Results.Json(new { errorCode, message }, statusCode: status);

    public sealed record RecordedCall(string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
    }

    public sealed record Delivery(string Topic, string EventId, int Attempt, string Outcome);
}
