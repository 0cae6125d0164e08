using System.Net;
using System.Text;
using System.Text.Json;
using Invisible.Platform.Blobs;
using Invisible.Platform.Dapr;
using Invisible.Platform.Email;
using Invisible.Platform.Events;
using Invisible.Platform.Secrets;
using Invisible.Platform.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>Each Dapr adapter against the stand-in sidecar: the calls it makes must be the ones the published API documents.</summary>
public sealed class DaprAdapterContractTests : IAsyncLifetime
{
    private const string ApiToken = "sidecar-token-for-tests";
    private StandInDaprSidecar _sidecar = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await StandInDaprSidecar.StartAsync(ApiToken);
        _services = DaprTestServices.For(_sidecar);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _sidecar.DisposeAsync();
    }

    private static CancellationToken Ct => TestTimeout.Token;

    [Fact]
    public async Task Every_call_carries_the_dapr_api_token_from_DAPR_API_TOKEN()
    {
        await _services.GetRequiredService<IStateStore>().GetAsync<string>("any", Ct);

        var call = Assert.Single(_sidecar.Calls);
        Assert.Equal(ApiToken, call.Headers["dapr-api-token"]);
    }

    [Fact]
    public async Task A_sidecar_that_refuses_the_token_is_an_error_not_a_missing_value()
    {
        await using var services = DaprTestServices.For(_sidecar.Port, apiToken: "wrong-token");

        var error = await Assert.ThrowsAsync<DaprSidecarException>(() => services.GetRequiredService<IStateStore>().GetAsync<string>("any", Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task State_is_saved_as_a_json_item_with_last_write_concurrency_strong_consistency_and_ttl_metadata()
    {
        var state = _services.GetRequiredService<IStateStore>();

        await state.SaveAsync("upload/42", new UploadSession("invoices.csv", 3), new StateWriteOptions(TimeToLive: TimeSpan.FromMinutes(2)), Ct);

        var call = Assert.Single(_sidecar.CallsTo("/v1.0/state/statestore"));
        Assert.Equal("POST", call.Method);
        var item = Assert.Single(call.Json!.AsArray())!;
        Assert.Equal("upload/42", item["key"]!.GetValue<string>());
        Assert.Equal("invoices.csv", item["value"]!["fileName"]!.GetValue<string>());
        Assert.Equal("120", item["metadata"]!["ttlInSeconds"]!.GetValue<string>());
        Assert.Equal("last-write", item["options"]!["concurrency"]!.GetValue<string>());
        Assert.Equal("strong", item["options"]!["consistency"]!.GetValue<string>());
        Assert.Null(item["etag"]);
    }

    [Fact]
    public async Task State_read_returns_the_value_with_the_etag_header_and_a_missing_key_is_null()
    {
        var state = _services.GetRequiredService<IStateStore>();
        await state.SaveAsync("k", new UploadSession("a.csv", 1), null, Ct);

        var entry = await state.GetAsync<UploadSession>("k", Ct);
        var missing = await state.GetAsync<UploadSession>("nothing-here", Ct);

        Assert.Equal(new UploadSession("a.csv", 1), entry!.Value);
        Assert.False(string.IsNullOrEmpty(entry.ETag));
        Assert.Null(missing);
        Assert.Contains(_sidecar.Calls, c => c.Method == "GET" && c.Path == "/v1.0/state/statestore/k" && c.Query["consistency"] == "strong");
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_a_concurrency_conflict_and_the_current_etag_wins()
    {
        var state = _services.GetRequiredService<IStateStore>();
        await state.SaveAsync("counter", 1, null, Ct);
        var read = await state.GetAsync<int>("counter", Ct);
        await state.SaveAsync("counter", 2, new StateWriteOptions(read!.ETag), Ct);

        await Assert.ThrowsAsync<StateConcurrencyException>(() => state.SaveAsync("counter", 3, new StateWriteOptions(read.ETag), Ct));

        Assert.Equal(2, (await state.GetAsync<int>("counter", Ct))!.Value);
        var conditional = _sidecar.CallsTo("/v1.0/state/statestore").Where(c => c.Method == "POST").Skip(1).First().Json!.AsArray()[0]!;
        Assert.Equal(read.ETag, conditional["etag"]!.GetValue<string>());
        Assert.Equal("first-write", conditional["options"]!["concurrency"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_sends_the_etag_as_If_Match_with_first_write_concurrency()
    {
        var state = _services.GetRequiredService<IStateStore>();
        await state.SaveAsync("session", "x", null, Ct);
        var entry = await state.GetAsync<string>("session", Ct);

        await Assert.ThrowsAsync<StateConcurrencyException>(() => state.DeleteAsync("session", "stale", Ct));
        await state.DeleteAsync("session", entry!.ETag, Ct);

        var delete = _sidecar.Calls.Last(c => c.Method == "DELETE");
        Assert.Equal("/v1.0/state/statestore/session", delete.Path);
        Assert.Equal(entry.ETag, delete.Headers["If-Match"]);
        Assert.Equal("first-write", delete.Query["concurrency"]);
        Assert.Null(await state.GetAsync<string>("session", Ct));
    }

    [Fact]
    public async Task A_transaction_posts_upserts_and_deletes_and_a_stale_etag_applies_none_of_them()
    {
        var state = _services.GetRequiredService<IStateStore>();
        await state.SaveAsync("a", 1, null, Ct);
        await state.SaveAsync("b", 1, null, Ct);

        await Assert.ThrowsAsync<StateConcurrencyException>(() => state.ExecuteTransactionAsync(
            [StateOperation.Upsert("a", 2), StateOperation.Delete("b", etag: "stale")], Ct));
        Assert.Equal(1, (await state.GetAsync<int>("a", Ct))!.Value);

        await state.ExecuteTransactionAsync([StateOperation.Upsert("a", 2, new StateWriteOptions(TimeToLive: TimeSpan.FromSeconds(30))), StateOperation.Delete("b")], Ct);

        Assert.Equal(2, (await state.GetAsync<int>("a", Ct))!.Value);
        Assert.Null(await state.GetAsync<int?>("b", Ct));
        var transaction = _sidecar.CallsTo("/v1.0/state/statestore/transaction").Last().Json!;
        var operations = transaction["operations"]!.AsArray();
        Assert.Equal(["upsert", "delete"], operations.Select(o => o!["operation"]!.GetValue<string>()));
        Assert.Equal("30", operations[0]!["request"]!["metadata"]!["ttlInSeconds"]!.GetValue<string>());
        Assert.Equal("b", operations[1]!["request"]!["key"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_secret_is_read_from_the_secretstore_component()
    {
        _sidecar.Secrets[SecretNames.JwtSigningKey] = "c2lnbmluZy1rZXk=";

        var value = await _services.GetRequiredService<ISecretStore>().GetSecretAsync(SecretNames.JwtSigningKey, Ct);

        Assert.Equal("c2lnbmluZy1rZXk=", value);
        Assert.Contains(_sidecar.Calls, c => c.Method == "GET" && c.Path == "/v1.0/secrets/secretstore/jwt-signing-key");
    }

    [Fact]
    public async Task Blobs_travel_as_base64_through_the_blobstore_binding_named_by_file_name_metadata()
    {
        var blobs = _services.GetRequiredService<IBlobStore>();
        byte[] content = [0, 1, 2, 250, 255, .. "invoice"u8];

        await blobs.PutAsync("tenants/t1/uploads/a.bin", content, Ct);
        await blobs.PutAsync("tenants/t2/uploads/b.bin", "other"u8.ToArray(), Ct);

        var create = _sidecar.CallsTo("/v1.0/bindings/blobstore").First().Json!;
        Assert.Equal("create", create["operation"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(content), create["data"]!.GetValue<string>());
        Assert.Equal("tenants/t1/uploads/a.bin", create["metadata"]!["fileName"]!.GetValue<string>());
        Assert.Equal(content, await blobs.GetAsync("tenants/t1/uploads/a.bin", Ct));
        Assert.Equal(["tenants/t1/uploads/a.bin"], await blobs.ListAsync("tenants/t1/", Ct));

        await blobs.DeleteAsync("tenants/t1/uploads/a.bin", Ct);
        await blobs.DeleteAsync("tenants/t1/uploads/a.bin", Ct);
        Assert.Null(await blobs.GetAsync("tenants/t1/uploads/a.bin", Ct));
    }

    [Fact]
    public async Task A_missing_blob_is_not_retried_because_the_binding_reports_it_as_a_server_error()
    {
        Assert.Null(await _services.GetRequiredService<IBlobStore>().GetAsync("nope.csv", Ct));

        Assert.Single(_sidecar.CallsTo("/v1.0/bindings/blobstore"));
    }

    [Fact]
    public async Task E_mail_goes_to_the_email_binding_with_sender_recipients_and_subject_as_metadata()
    {
        var email = new EmailMessage([new EmailAddress("ap@example.com"), new EmailAddress("cfo@example.com")], "3 invoices need review", "Open the <exception> queue");

        await _services.GetRequiredService<IEmailSender>().SendAsync(email, Ct);

        var call = Assert.Single(_sidecar.CallsTo("/v1.0/bindings/email")).Json!;
        Assert.Equal("create", call["operation"]!.GetValue<string>());
        Assert.Equal("ap@example.com;cfo@example.com", call["metadata"]!["emailTo"]!.GetValue<string>());
        Assert.Equal("3 invoices need review", call["metadata"]!["subject"]!.GetValue<string>());
        Assert.Equal("no-reply@invisible.local", call["metadata"]!["emailFrom"]!.GetValue<string>());
        Assert.Equal("<pre>Open the &lt;exception&gt; queue</pre>", call["data"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_event_is_published_as_a_structured_cloud_event_keyed_by_tenant()
    {
        var matched = new InvoiceMatched(Guid.NewGuid(), Guid.NewGuid(), new DateTimeOffset(2026, 11, 22, 1, 2, 3, TimeSpan.Zero), "INV-7");

        await _services.GetRequiredService<IEventBus>().PublishAsync(EventEnvelope.From(matched), Ct);

        var call = Assert.Single(_sidecar.CallsTo("/v1.0/publish"));
        Assert.Equal("/v1.0/publish/pubsub/invoice-matched", call.Path);
        Assert.Equal(CloudEvent.MediaType, call.Headers["Content-Type"]);
        Assert.Equal(matched.TenantId.ToString(), call.Query["metadata.partitionKey"]);
        var cloudEvent = call.Json!;
        Assert.Equal("1.0", cloudEvent["specversion"]!.GetValue<string>());
        Assert.Equal(matched.Id.ToString(), cloudEvent["id"]!.GetValue<string>());
        Assert.Equal("invoice-matched", cloudEvent["type"]!.GetValue<string>());
        Assert.Equal("urn:invisible", cloudEvent["source"]!.GetValue<string>());
        Assert.Equal("application/json", cloudEvent["datacontenttype"]!.GetValue<string>());
        Assert.Equal(matched.TenantId.ToString(), cloudEvent["tenantid"]!.GetValue<string>());
        Assert.Equal(matched.OccurredAt, cloudEvent["time"]!.GetValue<DateTimeOffset>());
        Assert.Equal("INV-7", cloudEvent["data"]!["invoiceNumber"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_transient_publish_failure_is_retried_and_a_lasting_one_fails_after_the_bounded_attempts()
    {
        var bus = _services.GetRequiredService<IEventBus>();
        var envelope = EventEnvelope.From(new InvoiceMatched(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow, "INV-1"));

        _sidecar.FailNextPublishes = 2;
        await bus.PublishAsync(envelope, Ct);
        Assert.Equal(3, _sidecar.CallsTo("/v1.0/publish").Count());

        _sidecar.FailNextPublishes = 100;
        var error = await Assert.ThrowsAsync<DaprSidecarException>(() => bus.PublishAsync(envelope, Ct));
        Assert.Equal("ERR_PUBSUB_PUBLISH_MESSAGE", error.ErrorCode);
        Assert.Equal(3 + 1 + 3, _sidecar.CallsTo("/v1.0/publish").Count());
    }

    [Fact]
    public async Task Start_up_waits_until_the_sidecar_reports_its_components_healthy()
    {
        _sidecar.UnhealthyProbes = 2;

        await StartHostedServicesAsync(_services);

        Assert.Equal(3, _sidecar.CallsTo("/v1.0/healthz/outbound").Count());
    }

    [Fact]
    public async Task Start_up_fails_with_a_clear_error_when_no_sidecar_answers_in_time()
    {
        var unusedPort = _sidecar.Port;
        await _sidecar.DisposeAsync();
        _sidecar = await StandInDaprSidecar.StartAsync(ApiToken);
        await using var services = DaprTestServices.For(unusedPort, ApiToken, new Dictionary<string, string?> { ["Dapr:SidecarStartupTimeout"] = "00:00:01" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartHostedServicesAsync(services));

        Assert.Contains($"127.0.0.1:{unusedPort}", error.Message);
        Assert.Contains("DAPR_HTTP_PORT", error.Message);
    }

    private static async Task StartHostedServicesAsync(IServiceProvider services)
    {
        foreach (var hosted in services.GetServices<IHostedService>())
        {
            await hosted.StartAsync(Ct);
        }
    }

    private sealed record UploadSession(string FileName, int Rows);
}

[IntegrationEvent("invoice-matched")]
public sealed record InvoiceMatched(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, string InvoiceNumber) : IntegrationEvent(Id, TenantId, OccurredAt);
