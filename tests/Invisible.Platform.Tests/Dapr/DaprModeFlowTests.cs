using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Dapr.Client.Autogen.Grpc.v1;
using Invisible.Platform.Dapr;
using Invisible.Platform.Events;
using Invisible.Platform.Tests.Events;
using Invisible.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>
/// The product in dapr mode as a real Kestrel app beside the stand-in sidecar: the outbox dispatcher publishes through
/// the Dapr SDK (gRPC), the sidecar delivers over HTTP to the subscription endpoint Dapr.AspNetCore declared, the handler
/// runs against the real database.
/// </summary>
public sealed class DaprModeFlowTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private const string SidecarToken = "token-the-app-sends";
    private const string AppToken = "token-the-sidecar-sends";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly HandlerSwitch _handlerSwitch = new();
    private readonly HttpClient _client = new();
    private StandInDaprSidecar _sidecar = null!;
    private WebApplication _app = null!;
    private Uri _appAddress = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await StandInDaprSidecar.StartAsync(SidecarToken);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Runtime:Mode"] = "dapr",
            ["DAPR_HTTP_PORT"] = _sidecar.HttpPort.ToString(),
            ["DAPR_GRPC_PORT"] = _sidecar.GrpcPort.ToString(),
            ["DAPR_API_TOKEN"] = SidecarToken,
            ["APP_API_TOKEN"] = AppToken,
            ["Events:PollInterval"] = "00:00:00.200",
            ["Events:RetryBaseDelay"] = "00:00:00.020",
        });
        builder.Services.AddSingleton(fixture.Database.AppDataSource);
        builder.Services.AddSingleton(_handlerSwitch);
        builder.Services.AddPlatform(builder.Configuration);
        builder.Services.AddIntegrationEventHandler<ReceiptPosted, EffectCountingHandler>();
        _app = builder.Build();
        _app.UseDaprAppCallbacks();
        _app.MapDaprAppCallbacks();
        await _app.StartAsync();
        _appAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        _sidecar.DeliverTo = _appAddress;
        _sidecar.AppApiToken = AppToken;
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _sidecar.DisposeAsync();
        _client.Dispose();
    }

    [Fact]
    public async Task An_event_travels_from_the_outbox_through_the_sidecar_to_its_subscriber_once()
    {
        var tenant = await fixture.Database.CreateTenantAsync("dapr-flow");
        var receipt = ReceiptPosted.For(tenant.Id, "GR-DAPR");

        await EnqueueAsync(receipt);

        // The stand-in records a delivery once the app has answered, which is after the handler's effect committed.
        await Eventually.TrueAsync(
            async () => (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(receipt.Id) &&
                        _sidecar.Deliveries.Any(d => d.EventId == receipt.Id.ToString()),
            Patience);
        var delivery = Assert.Single(_sidecar.Deliveries, d => d.EventId == receipt.Id.ToString());
        Assert.Equal(("receipt-posted", "SUCCESS"), (delivery.Topic, delivery.Outcome));
        var publish = Assert.Single(_sidecar.Calls, c => c.Request is PublishEventRequest { Topic: "receipt-posted" });
        Assert.Equal(SidecarToken, publish.Headers["dapr-api-token"]);
        Assert.Equal(receipt.Id.ToString(), JsonNode.Parse(((PublishEventRequest)publish.Request).Data.ToStringUtf8())!["id"]!.GetValue<string>());
        Assert.Equal(1, (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource))[receipt.Id]);
    }

    [Fact]
    public async Task The_subscriber_continues_the_writers_trace_although_dapr_replaces_the_traceparent()
    {
        var tenant = await fixture.Database.CreateTenantAsync("dapr-trace");
        var receipt = ReceiptPosted.For(tenant.Id, "GR-DAPR-TRACE");
        string writerTraceParent;
        using (var writer = new System.Diagnostics.Activity("write receipt").SetIdFormat(System.Diagnostics.ActivityIdFormat.W3C).Start())
        {
            writerTraceParent = writer.Id!;
            await EnqueueAsync(receipt);
        }

        await Eventually.TrueAsync(async () => (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(receipt.Id), Patience);

        Assert.Equal(writerTraceParent, _handlerSwitch.LastTraceParent);
    }

    [Fact]
    public async Task An_event_the_broker_delivers_twice_has_its_effect_once()
    {
        var tenant = await fixture.Database.CreateTenantAsync("dapr-redelivery");
        var receipt = ReceiptPosted.For(tenant.Id, "GR-DAPR-TWICE");
        _sidecar.DeliveriesPerPublish = 2;

        await EnqueueAsync(receipt);

        await Eventually.TrueAsync(
            () => Task.FromResult(_sidecar.Deliveries.Count(d => d.EventId == receipt.Id.ToString() && d.Outcome == "SUCCESS") == 2),
            Patience);
        Assert.Equal(1, (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource))[receipt.Id]);
    }

    [Fact]
    public async Task A_failing_handler_asks_for_a_retry_then_the_dead_letter_topic_stores_it_and_redrive_delivers_it()
    {
        var tenant = await fixture.Database.CreateTenantAsync("dapr-dead-letter");
        var receipt = ReceiptPosted.For(tenant.Id, "GR-DAPR-POISON");
        var deadLetters = _app.Services.GetRequiredService<DeadLetters>();
        _handlerSwitch.Fail = true;

        await EnqueueAsync(receipt);

        // The dead letter commits before the app answers the sidecar, and the stand-in records the delivery after the answer.
        await Eventually.TrueAsync(
            async () => (await deadLetters.ListAsync(tenant.Id, 10, TestTimeout.Token)).Count == 1 &&
                        _sidecar.Deliveries.Any(d => d.EventId == receipt.Id.ToString() && d.Topic == DaprAppEndpoints.DeadLetterTopic),
            Patience);
        var outcomes = _sidecar.Deliveries.Where(d => d.EventId == receipt.Id.ToString()).Select(d => (d.Topic, d.Outcome)).ToList();
        Assert.Equal(
            [("receipt-posted", "RETRY"), ("receipt-posted", "RETRY"), ("receipt-posted", "RETRY"), (DaprAppEndpoints.DeadLetterTopic, "SUCCESS")],
            outcomes);
        var deadLetter = Assert.Single(await deadLetters.ListAsync(tenant.Id, 10, TestTimeout.Token));
        Assert.Equal("receipt-posted", deadLetter.Topic);

        _handlerSwitch.Fail = false;
        await deadLetters.RedriveAsync(tenant.Id, [receipt.Id], TestTimeout.Token);

        await Eventually.TrueAsync(async () => (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource)).ContainsKey(receipt.Id), Patience);
        Assert.Equal(1, (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource))[receipt.Id]);
        Assert.Empty(await deadLetters.ListAsync(tenant.Id, 10, TestTimeout.Token));
    }

    [Fact]
    public async Task The_subscription_list_names_each_topic_with_its_route_and_dead_letter_topic()
    {
        var subscriptions = await SendAsync(HttpMethod.Get, "dapr/subscribe", AppToken);

        Assert.Equal(HttpStatusCode.OK, subscriptions.StatusCode);
        var list = (await subscriptions.Content.ReadFromJsonAsync<JsonArray>())!;
        var receipts = Assert.Single(list, s => s!["topic"]!.GetValue<string>() == "receipt-posted")!;
        Assert.Equal("pubsub", receipts["pubsubName"]!.GetValue<string>());
        Assert.Equal("dapr/events/receipt-posted", receipts["route"]!.GetValue<string>().TrimStart('/'));
        Assert.Equal("dead-letters", receipts["deadLetterTopic"]!.GetValue<string>());
        Assert.Equal("dapr/dead-letters", Assert.Single(list, s => s!["topic"]!.GetValue<string>() == "dead-letters")!["route"]!.GetValue<string>().TrimStart('/'));
    }

    [Fact]
    public async Task Calls_without_the_app_api_token_are_refused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "dapr/subscribe", token: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, "dapr/events/receipt-posted", "wrong", "{}")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_topic_is_404_so_dapr_drops_it_and_a_body_that_is_no_cloud_event_is_dropped()
    {
        var unknown = await SendAsync(HttpMethod.Post, "dapr/events/nobody-listens", AppToken, "{}");
        var malformed = await SendAsync(HttpMethod.Post, "dapr/events/receipt-posted", AppToken, """{"specversion":"1.0","id":"not-a-uuid","source":"x","type":"receipt-posted"}""");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, malformed.StatusCode);
        Assert.Equal("DROP", (await malformed.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_cloud_event_with_base64_data_is_decoded_and_handled()
    {
        var tenant = await fixture.Database.CreateTenantAsync("dapr-base64");
        var receipt = ReceiptPosted.For(tenant.Id, "GR-B64");
        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(EventEnvelope.From(receipt).Data));
        var cloudEvent = $$"""
            {"specversion":"1.0","id":"{{receipt.Id}}","source":"urn:test","type":"receipt-posted","tenantid":"{{tenant.Id}}",
             "datacontenttype":"application/json","data_base64":"{{data}}"}
            """;

        var response = await SendAsync(HttpMethod.Post, "dapr/events/receipt-posted", AppToken, cloudEvent);

        Assert.Equal("SUCCESS", (await response.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        Assert.Equal(1, (await EffectCountingHandler.EffectsAsync(fixture.Database.AppDataSource))[receipt.Id]);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_appAddress, path));
        if (token is not null)
        {
            request.Headers.Add("dapr-api-token", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, CloudEvent.MediaType);
        }

        return await _client.SendAsync(request);
    }

    private async Task EnqueueAsync(IntegrationEvent integrationEvent)
    {
        await using var unitOfWork = await fixture.Database.Tenants.BeginAsync(integrationEvent.TenantId, TestTimeout.Token);
        await EventOutbox.EnqueueAsync(unitOfWork, integrationEvent, TestTimeout.Token);
        await unitOfWork.CommitAsync(TestTimeout.Token);
    }
}
