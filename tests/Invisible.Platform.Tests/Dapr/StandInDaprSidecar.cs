using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using StateConcurrency = Dapr.Client.Autogen.Grpc.v1.StateOptions.Types.StateConcurrency;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>
/// A stand-in for daprd, which cannot run here, speaking the protocols the Dapr .NET SDK uses: the gRPC runtime API
/// (service <c>dapr.proto.runtime.v1.Dapr</c>, with the request and response messages of the SDK's own Dapr.Protos) over
/// HTTP/2 for publish, state (ETags, TTL, transactions), secrets and output bindings, and the HTTP API's
/// <c>/v1.0/healthz/outbound</c>, which the SDK probes. It records every call and answers as daprd does (status codes and
/// messages of dapr/pkg/messages). With <see cref="DeliverTo"/> it also plays the broker over HTTP: it reads the app's
/// <c>/dapr/subscribe</c> and POSTs published CloudEvents to the subscribed route, retrying on RETRY and forwarding to the
/// dead-letter topic after <see cref="MaxDeliveryAttempts"/>, as Dapr's pub/sub does.
/// </summary>
public sealed class StandInDaprSidecar : IAsyncDisposable
{
    public const string BlobRootPath = "/data/blobs";
    public const string GrpcServiceName = "dapr.proto.runtime.v1.Dapr";

    private readonly ConcurrentDictionary<string, (ByteString Value, string ETag, DateTimeOffset? ExpiresAt)> _state = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly HttpClient _appClient = new();
    private readonly object _stateLock = new();
    private WebApplication _app = null!;
    private int _etagSequence;
    private int _healthProbes;

    private StandInDaprSidecar()
    {
    }

    public int GrpcPort { get; private set; }

    public int HttpPort { get; private set; }

    /// <summary>When set, every gRPC call must carry it as <c>dapr-api-token</c> (DAPR_API_TOKEN), else Unauthenticated.</summary>
    public string? ApiToken { get; private init; }

    /// <summary>The app's base address; published events are delivered there.</summary>
    public Uri? DeliverTo { get; set; }

    /// <summary>Sent to the app as <c>dapr-api-token</c> (APP_API_TOKEN).</summary>
    public string? AppApiToken { get; set; }

    public int MaxDeliveryAttempts { get; set; } = 3;

    /// <summary>How often each published event is delivered: pub/sub is at-least-once, so a broker may hand it out twice.</summary>
    public int DeliveriesPerPublish { get; set; } = 1;

    /// <summary><c>healthz/outbound</c> answers 500 to this many probes before answering 204.</summary>
    public int UnhealthyProbes { get; set; }

    /// <summary>The next this-many publishes fail as a broker hiccup does.</summary>
    public int FailNextPublishes { get; set; }

    public ConcurrentDictionary<string, string> Secrets { get; } = new();

    /// <summary>Secrets this app may not read (a Dapr configuration's <c>secrets.scopes</c> with <c>allowedSecrets</c>).</summary>
    public HashSet<string> DeniedSecrets { get; } = [];

    public ConcurrentQueue<RecordedCall> Calls { get; } = new();

    public ConcurrentQueue<int> HealthProbes { get; } = new();

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public static async Task<StandInDaprSidecar> StartAsync(string? apiToken = null)
    {
        var sidecar = new StandInDaprSidecar { ApiToken = apiToken };
        var builder = WebApplication.CreateSlimBuilder();
        ListenOptions? grpc = null, http = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => (grpc = listen).Protocols = HttpProtocols.Http2);
            kestrel.Listen(IPAddress.Loopback, 0, listen => (http = listen).Protocols = HttpProtocols.Http1);
        });
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc(options => options.Interceptors.Add<ApiTokenCheck>());
        builder.Services.AddSingleton(sidecar);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<DaprRuntime>, DaprRuntimeMethods>());
        var app = builder.Build();
        app.MapGrpcService<DaprRuntime>();
        app.MapGet("/v1.0/healthz/outbound", () =>
        {
            var probe = Interlocked.Increment(ref sidecar._healthProbes);
            sidecar.HealthProbes.Enqueue(probe);
            return probe > sidecar.UnhealthyProbes ? Results.NoContent() : Results.StatusCode(500);
        });
        await app.StartAsync();
        sidecar._app = app;
        sidecar.GrpcPort = grpc!.IPEndPoint!.Port;
        sidecar.HttpPort = http!.IPEndPoint!.Port;
        return sidecar;
    }

    public IEnumerable<T> CallsOf<T>() where T : IMessage => Calls.Select(c => c.Request).OfType<T>();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _appClient.Dispose();
    }

    private static RpcException Error(StatusCode code, string message) => new(new Status(code, message));

    private Empty Publish(PublishEventRequest request)
    {
        if (request.PubsubName != DaprComponents.PubSub)
        {
            throw Error(StatusCode.InvalidArgument, $"pubsub {request.PubsubName} not found");
        }

        if (FailNextPublishes > 0)
        {
            FailNextPublishes--;
            throw Error(StatusCode.Internal, $"error when publish to topic {request.Topic} in pubsub {request.PubsubName}: broker unavailable");
        }

        if (DeliverTo is not null)
        {
            var cloudEvent = JsonNode.Parse(request.Data.ToStringUtf8())!.AsObject();

            // Dapr sets these attributes when it forwards a structured CloudEvent; traceparent becomes its own publish span's.
            cloudEvent["pubsubname"] = request.PubsubName;
            cloudEvent["topic"] = request.Topic;
            cloudEvent["traceparent"] = $"00-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())}-{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()))}-01";
            _ = Task.Run(async () =>
            {
                try
                {
                    for (var delivery = 0; delivery < DeliveriesPerPublish; delivery++)
                    {
                        await DeliverAsync(request.Topic, cloudEvent);
                    }
                }
                catch (Exception e)
                {
                    Deliveries.Enqueue(new Delivery(request.Topic, cloudEvent["id"]?.ToString() ?? "", 0, $"stand-in failed: {e}"));
                }
            });
        }

        return new Empty();
    }

    private async Task DeliverAsync(string topic, JsonObject cloudEvent)
    {
        var eventId = cloudEvent["id"]!.GetValue<string>();
        var subscription = (await SubscriptionsAsync()).FirstOrDefault(s => s.Topic == topic);
        if (subscription is null)
        {
            Deliveries.Enqueue(new Delivery(topic, eventId, 0, "no subscription"));
            return;
        }

        for (var attempt = 1; attempt <= MaxDeliveryAttempts; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(DeliverTo!, subscription.Path))
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
                : response.StatusCode == HttpStatusCode.OK ? "SUCCESS" : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            Deliveries.Enqueue(new Delivery(topic, eventId, attempt, status));

            // Per the pub/sub API: SUCCESS or DROP end delivery, 404 drops, RETRY and any other status retry.
            if (status is "SUCCESS" or "DROP" or "404")
            {
                return;
            }
        }

        if (subscription.DeadLetterTopic is { Length: > 0 } deadLetterTopic)
        {
            var deadLetter = cloudEvent.DeepClone().AsObject();
            deadLetter["topic"] = deadLetterTopic;
            await DeliverAsync(deadLetterTopic, deadLetter);
        }
    }

    /// <summary>The app's programmatic subscriptions; Dapr reads the JSON case-insensitively and accepts <c>route</c> or <c>routes.default</c>.</summary>
    private async Task<IReadOnlyList<AppSubscription>> SubscriptionsAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(DeliverTo!, "dapr/subscribe"));
        if (AppApiToken is not null)
        {
            request.Headers.Add("dapr-api-token", AppApiToken);
        }

        using var response = await _appClient.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var list = await response.Content.ReadFromJsonAsync<List<AppSubscription>>(new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
        return list ?? [];
    }

    private GetStateResponse GetState(GetStateRequest request)
    {
        RequireStateStore(request.StoreName);
        if (!_state.TryGetValue(request.Key, out var entry) || IsExpired(entry.ExpiresAt))
        {
            return new GetStateResponse();
        }

        return new GetStateResponse { Data = entry.Value, Etag = entry.ETag };
    }

    private Empty SaveState(SaveStateRequest request)
    {
        RequireStateStore(request.StoreName);
        ApplyAtomically(request.States.Select(item => ("upsert", item)).ToList(), onMismatch: key =>
            Error(StatusCode.Aborted, $"failed saving state in state store {request.StoreName}: possible etag mismatch. error from state store: key {key}"));
        return new Empty();
    }

    private Empty DeleteState(DeleteStateRequest request)
    {
        RequireStateStore(request.StoreName);
        var item = new StateItem { Key = request.Key, Etag = request.Etag, Options = request.Options };
        ApplyAtomically([("delete", item)], onMismatch: key =>
            Error(StatusCode.Aborted, $"failed deleting state with key {key}: possible etag mismatch. error from state store"));
        return new Empty();
    }

    private Empty ExecuteStateTransaction(ExecuteStateTransactionRequest request)
    {
        RequireStateStore(request.StoreName);
        ApplyAtomically(request.Operations.Select(o => (o.OperationType, o.Request)).ToList(), onMismatch: _ =>
            Error(StatusCode.Internal, "error while executing state transaction: possible etag mismatch. error from state store"));
        return new Empty();
    }

    private static void RequireStateStore(string store)
    {
        if (store != DaprComponents.StateStore)
        {
            throw Error(StatusCode.InvalidArgument, $"state store {store} is not found");
        }
    }

    /// <summary>All operations or none, as a transactional store does.</summary>
    private void ApplyAtomically(IReadOnlyList<(string Operation, StateItem Item)> operations, Func<string, RpcException> onMismatch)
    {
        lock (_stateLock)
        {
            foreach (var (_, item) in operations)
            {
                if (item.Etag is { Value.Length: > 0 } etag
                    && (!_state.TryGetValue(item.Key, out var current) || IsExpired(current.ExpiresAt) || current.ETag != etag.Value))
                {
                    throw onMismatch(item.Key);
                }
            }

            foreach (var (operation, item) in operations)
            {
                if (operation == "delete")
                {
                    _state.TryRemove(item.Key, out _);
                    continue;
                }

                var expiresAt = item.Metadata.TryGetValue("ttlInSeconds", out var ttl)
                    ? DateTimeOffset.UtcNow.AddSeconds(double.Parse(ttl, CultureInfo.InvariantCulture))
                    : (DateTimeOffset?)null;
                _state[item.Key] = (item.Value, Interlocked.Increment(ref _etagSequence).ToString(CultureInfo.InvariantCulture), expiresAt);
            }
        }
    }

    private static bool IsExpired(DateTimeOffset? expiresAt) => expiresAt is { } at && at <= DateTimeOffset.UtcNow;

    private GetSecretResponse GetSecret(GetSecretRequest request)
    {
        if (request.StoreName != DaprComponents.SecretStore)
        {
            throw Error(StatusCode.InvalidArgument, $"failed finding secret store with key {request.StoreName}");
        }

        if (DeniedSecrets.Contains(request.Key))
        {
            throw Error(StatusCode.PermissionDenied, $"access denied by policy to get \"{request.Key}\" from \"{request.StoreName}\"");
        }

        // secretstores.local.file answers a missing key with an error, which daprd passes on as Internal.
        return Secrets.TryGetValue(request.Key, out var value)
            ? new GetSecretResponse { Data = { [request.Key] = value } }
            : throw Error(StatusCode.Internal, $"failed getting secret with key {request.Key} from secret store {request.StoreName}: secret {request.Key} not found");
    }

    private InvokeBindingResponse InvokeBinding(InvokeBindingRequest request) => request.Name switch
    {
        DaprComponents.BlobStore => LocalStorage(request),
        DaprComponents.Email => request.Operation == "create"
            ? new InvokeBindingResponse()
            : throw Error(StatusCode.Internal, $"error invoking output binding email: unsupported operation {request.Operation}"),
        DaprComponents.QuickBooks when QuickBooksUrl is not null => Http(QuickBooksUrl, request),
        _ => throw Error(StatusCode.Internal, $"error invoking output binding {request.Name}: couldn't find output binding {request.Name}"),
    };

    /// <summary>The <c>url</c> of the <c>quickbooks</c> binding (bindings.http); null: the sidecar has no such binding.</summary>
    public Uri? QuickBooksUrl { get; set; }

    /// <summary>
    /// bindings.http with <c>errorIfNot2XX: false</c>: the operation is the method, <c>path</c> is appended to the url, the
    /// other metadata are sent as headers; the answer's body is the data, its status <c>statusCode</c>, its headers metadata.
    /// </summary>
    private static InvokeBindingResponse Http(Uri url, InvokeBindingRequest request)
    {
        using var http = new HttpClient();
        using var call = new HttpRequestMessage(new HttpMethod(request.Operation.ToUpperInvariant()), url.AbsoluteUri.TrimEnd('/') + request.Metadata.GetValueOrDefault("path", ""));
        if (request.Operation is "post" or "put" or "patch" or "create")
        {
            call.Content = new ByteArrayContent(request.Data.ToByteArray());
        }

        foreach (var (name, value) in request.Metadata.Where(pair => pair.Key != "path"))
        {
            if (!call.Headers.TryAddWithoutValidation(name, value))
            {
                call.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var answer = http.Send(call);
        var response = new InvokeBindingResponse { Data = ByteString.CopyFrom(answer.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()) };
        response.Metadata["statusCode"] = ((int)answer.StatusCode).ToString(CultureInfo.InvariantCulture);
        foreach (var header in answer.Headers.Concat(answer.Content.Headers))
        {
            response.Metadata[header.Key] = string.Join(", ", header.Value);
        }

        return response;
    }

    /// <summary>bindings.localstorage: base64 data decoded on create, absolute paths on list, "file not found" errors.</summary>
    private InvokeBindingResponse LocalStorage(InvokeBindingRequest request)
    {
        request.Metadata.TryGetValue("fileName", out var fileName);
        switch (request.Operation)
        {
            case "create":
                var data = request.Data.ToStringUtf8();
                try
                {
                    _blobs[fileName!] = Convert.FromBase64String(data);
                }
                catch (FormatException)
                {
                    _blobs[fileName!] = request.Data.ToByteArray();
                }

                return new InvokeBindingResponse { Data = ByteString.CopyFromUtf8(JsonSerializer.Serialize(new { fileName })) };
            case "get":
                return _blobs.TryGetValue(fileName!, out var content)
                    ? new InvokeBindingResponse { Data = ByteString.CopyFrom(content) }
                    : throw Error(StatusCode.Internal, $"error invoking output binding blobstore: file not found: {BlobRootPath}/{fileName}");
            case "list":
                return new InvokeBindingResponse { Data = ByteString.CopyFromUtf8(JsonSerializer.Serialize(_blobs.Keys.Select(name => $"{BlobRootPath}/{name}"))) };
            case "delete":
                return _blobs.TryRemove(fileName!, out _)
                    ? new InvokeBindingResponse()
                    : throw Error(StatusCode.Internal, $"error invoking output binding blobstore: error deleting file {BlobRootPath}/{fileName}: remove: no such file or directory");
            default:
                throw Error(StatusCode.Internal, $"error invoking output binding blobstore: unsupported operation {request.Operation}");
        }
    }

    /// <param name="Method">The gRPC method name, e.g. <c>SaveState</c>.</param>
    public sealed record RecordedCall(string Method, IMessage Request, IReadOnlyDictionary<string, string> Headers);

    public sealed record Delivery(string Topic, string EventId, int Attempt, string Outcome);

    private sealed record AppSubscription(string Topic, string? Route, AppRoutes? Routes, string? DeadLetterTopic)
    {
        public string Path => Route ?? Routes?.Default ?? throw new InvalidOperationException($"subscription to {Topic} has no route");
    }

    private sealed record AppRoutes(string? Default);

    /// <summary>Records each call, then refuses it without the API token, as daprd's token middleware does.</summary>
    private sealed class ApiTokenCheck(StandInDaprSidecar sidecar) : Grpc.Core.Interceptors.Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            sidecar.Calls.Enqueue(new RecordedCall(
                context.Method[(context.Method.LastIndexOf('/') + 1)..],
                (IMessage)request,
                context.RequestHeaders.Where(h => !h.IsBinary).GroupBy(h => h.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.OrdinalIgnoreCase)));
            if (sidecar.ApiToken is not null && context.RequestHeaders.GetValue("dapr-api-token") != sidecar.ApiToken)
            {
                throw Error(StatusCode.Unauthenticated, "authentication error: api token mismatch");
            }

            return continuation(request, context);
        }
    }

    /// <summary>The gRPC service; its methods are bound by <see cref="DaprRuntimeMethods"/> (Dapr.Protos ships only the client stub).</summary>
    private sealed class DaprRuntime(StandInDaprSidecar sidecar)
    {
        public StandInDaprSidecar Sidecar => sidecar;
    }

    private sealed class DaprRuntimeMethods : IServiceMethodProvider<DaprRuntime>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<DaprRuntime> context)
        {
            Add<PublishEventRequest, Empty>(context, "PublishEvent", (s, r) => s.Publish(r));
            Add<GetStateRequest, GetStateResponse>(context, "GetState", (s, r) => s.GetState(r));
            Add<SaveStateRequest, Empty>(context, "SaveState", (s, r) => s.SaveState(r));
            Add<DeleteStateRequest, Empty>(context, "DeleteState", (s, r) => s.DeleteState(r));
            Add<ExecuteStateTransactionRequest, Empty>(context, "ExecuteStateTransaction", (s, r) => s.ExecuteStateTransaction(r));
            Add<GetSecretRequest, GetSecretResponse>(context, "GetSecret", (s, r) => s.GetSecret(r));
            Add<InvokeBindingRequest, InvokeBindingResponse>(context, "InvokeBinding", (s, r) => s.InvokeBinding(r));
        }

        private static void Add<TRequest, TResponse>(ServiceMethodProviderContext<DaprRuntime> context, string name, Func<StandInDaprSidecar, TRequest, TResponse> handle)
            where TRequest : class, IMessage<TRequest>, new()
            where TResponse : class, IMessage<TResponse>, new()
        {
            var method = new Method<TRequest, TResponse>(
                MethodType.Unary,
                GrpcServiceName,
                name,
                Marshallers.Create(message => message.ToByteArray(), new MessageParser<TRequest>(() => new TRequest()).ParseFrom),
                Marshallers.Create(message => message.ToByteArray(), new MessageParser<TResponse>(() => new TResponse()).ParseFrom));
            context.AddUnaryMethod(method, [], (service, request, _) => Task.FromResult(handle(service.Sidecar, request)));
        }
    }
}
