using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.Client.Autogen.Grpc.v1;
using Grpc.Core;
using Invisible.Platform.Blobs;
using Invisible.Platform.Dapr;
using Invisible.Platform.Email;
using Invisible.Platform.Events;
using Invisible.Platform.Secrets;
using Invisible.Platform.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StateConcurrency = Dapr.Client.Autogen.Grpc.v1.StateOptions.Types.StateConcurrency;
using StateConsistency = Dapr.Client.Autogen.Grpc.v1.StateOptions.Types.StateConsistency;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>
/// Each Dapr adapter, through the Dapr .NET SDK, against the stand-in sidecar's gRPC runtime API: the calls it makes must
/// be the ones the published API documents.
/// </summary>
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
        Assert.Equal(("GetState", ApiToken), (call.Method, call.Headers["dapr-api-token"]));
    }

    [Fact]
    public async Task A_sidecar_that_refuses_the_token_is_an_error_not_a_missing_value()
    {
        await using var services = DaprTestServices.For(_sidecar.HttpPort, _sidecar.GrpcPort, apiToken: "wrong-token");

        var error = await Assert.ThrowsAsync<DaprException>(() => services.GetRequiredService<IStateStore>().GetAsync<string>("any", Ct));
        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task State_is_saved_as_a_json_item_with_last_write_concurrency_strong_consistency_and_ttl_metadata()
    {
        var state = _services.GetRequiredService<IStateStore>();

        await state.SaveAsync("upload/42", new UploadSession("invoices.csv", 3), new StateWriteOptions(TimeToLive: TimeSpan.FromMinutes(2)), Ct);

        var save = Assert.Single(_sidecar.CallsOf<SaveStateRequest>());
        Assert.Equal("statestore", save.StoreName);
        var item = Assert.Single(save.States);
        Assert.Equal("upload/42", item.Key);
        Assert.Equal("invoices.csv", JsonNode.Parse(item.Value.ToStringUtf8())!["fileName"]!.GetValue<string>());
        Assert.Equal("120", item.Metadata["ttlInSeconds"]);
        Assert.Equal((StateConcurrency.ConcurrencyLastWrite, StateConsistency.ConsistencyStrong), (item.Options.Concurrency, item.Options.Consistency));
        Assert.Null(item.Etag);
    }

    [Fact]
    public async Task State_read_returns_the_value_with_its_etag_asks_for_strong_consistency_and_a_missing_key_is_null()
    {
        var state = _services.GetRequiredService<IStateStore>();
        await state.SaveAsync("k", new UploadSession("a.csv", 1), null, Ct);

        var entry = await state.GetAsync<UploadSession>("k", Ct);
        var missing = await state.GetAsync<UploadSession>("nothing-here", Ct);

        Assert.Equal(new UploadSession("a.csv", 1), entry!.Value);
        Assert.False(string.IsNullOrEmpty(entry.ETag));
        Assert.Null(missing);
        Assert.Contains(_sidecar.CallsOf<GetStateRequest>(), c => c.Key == "k" && c.StoreName == "statestore" && c.Consistency == StateConsistency.ConsistencyStrong);
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
        var conditional = _sidecar.CallsOf<SaveStateRequest>().Skip(1).First().States[0];
        Assert.Equal((read.ETag, StateConcurrency.ConcurrencyFirstWrite), (conditional.Etag.Value, conditional.Options.Concurrency));
    }

    [Fact]
    public async Task Delete_sends_the_etag_with_first_write_concurrency_and_a_stale_one_is_a_conflict()
    {
        var state = _services.GetRequiredService<IStateStore>();
        await state.SaveAsync("session", "x", null, Ct);
        var entry = await state.GetAsync<string>("session", Ct);

        await Assert.ThrowsAsync<StateConcurrencyException>(() => state.DeleteAsync("session", "stale", Ct));
        await state.DeleteAsync("session", entry!.ETag, Ct);

        var delete = _sidecar.CallsOf<DeleteStateRequest>().Last();
        Assert.Equal(("session", entry.ETag, StateConcurrency.ConcurrencyFirstWrite), (delete.Key, delete.Etag.Value, delete.Options.Concurrency));
        Assert.Null(await state.GetAsync<string>("session", Ct));
    }

    [Fact]
    public async Task A_transaction_sends_upserts_and_deletes_and_a_stale_etag_applies_none_of_them()
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
        var operations = _sidecar.CallsOf<ExecuteStateTransactionRequest>().Last().Operations;
        Assert.Equal(["upsert", "delete"], operations.Select(o => o.OperationType));
        Assert.Equal("30", operations[0].Request.Metadata["ttlInSeconds"]);
        Assert.Equal("b", operations[1].Request.Key);
    }

    [Fact]
    public async Task A_secret_is_read_from_the_secretstore_component_and_a_missing_one_is_not_found()
    {
        _sidecar.Secrets[SecretNames.JwtSigningKey] = "c2lnbmluZy1rZXk=";
        var secrets = _services.GetRequiredService<ISecretStore>();

        var value = await secrets.GetSecretAsync(SecretNames.JwtSigningKey, Ct);

        Assert.Equal("c2lnbmluZy1rZXk=", value);
        Assert.Contains(_sidecar.CallsOf<GetSecretRequest>(), c => c.StoreName == "secretstore" && c.Key == "jwt-signing-key");
        await Assert.ThrowsAsync<SecretNotFoundException>(() => secrets.GetSecretAsync(SecretNames.SmtpPassword, Ct));
    }

    [Fact]
    public async Task Blobs_travel_as_base64_through_the_blobstore_binding_named_by_file_name_metadata()
    {
        var blobs = _services.GetRequiredService<IBlobStore>();
        byte[] content = [0, 1, 2, 250, 255, .. "invoice"u8];

        await blobs.PutAsync("tenants/t1/uploads/a.bin", content, Ct);
        await blobs.PutAsync("tenants/t2/uploads/b.bin", "other"u8.ToArray(), Ct);

        var create = _sidecar.CallsOf<InvokeBindingRequest>().First();
        Assert.Equal(("blobstore", "create"), (create.Name, create.Operation));
        Assert.Equal(Convert.ToBase64String(content), create.Data.ToStringUtf8());
        Assert.Equal("tenants/t1/uploads/a.bin", create.Metadata["fileName"]);
        Assert.Equal(content, await blobs.GetAsync("tenants/t1/uploads/a.bin", Ct));
        Assert.Equal(["tenants/t1/uploads/a.bin"], await blobs.ListAsync("tenants/t1/", Ct));

        await blobs.DeleteAsync("tenants/t1/uploads/a.bin", Ct);
        await blobs.DeleteAsync("tenants/t1/uploads/a.bin", Ct);
        Assert.Null(await blobs.GetAsync("tenants/t1/uploads/a.bin", Ct));
    }

    [Fact]
    public async Task A_missing_blob_is_null_after_one_call_because_the_binding_reports_it_as_an_invocation_error()
    {
        Assert.Null(await _services.GetRequiredService<IBlobStore>().GetAsync("nope.csv", Ct));

        Assert.Single(_sidecar.CallsOf<InvokeBindingRequest>());
    }

    [Fact]
    public async Task E_mail_goes_to_the_email_binding_with_sender_recipients_and_subject_as_metadata()
    {
        var email = new EmailMessage([new EmailAddress("ap@example.com"), new EmailAddress("cfo@example.com")], "3 invoices need review", "Open the <exception> queue");

        await _services.GetRequiredService<IEmailSender>().SendAsync(email, Ct);

        var call = Assert.Single(_sidecar.CallsOf<InvokeBindingRequest>());
        Assert.Equal(("email", "create"), (call.Name, call.Operation));
        Assert.Equal("ap@example.com;cfo@example.com", call.Metadata["emailTo"]);
        Assert.Equal("3 invoices need review", call.Metadata["subject"]);
        Assert.Equal("no-reply@invisible.local", call.Metadata["emailFrom"]);
        Assert.Equal("<pre>Open the &lt;exception&gt; queue</pre>", call.Data.ToStringUtf8());
    }

    [Fact]
    public async Task An_event_is_published_as_a_structured_cloud_event_keyed_by_tenant()
    {
        var matched = new InvoiceMatched(Guid.NewGuid(), Guid.NewGuid(), new DateTimeOffset(2026, 11, 22, 1, 2, 3, TimeSpan.Zero), "INV-7");

        await _services.GetRequiredService<IEventBus>().PublishAsync(EventEnvelope.From(matched), Ct);

        var publish = Assert.Single(_sidecar.CallsOf<PublishEventRequest>());
        Assert.Equal(("pubsub", "invoice-matched"), (publish.PubsubName, publish.Topic));
        Assert.Equal(Invisible.Platform.Dapr.CloudEvent.MediaType, publish.DataContentType);
        Assert.Equal(matched.TenantId.ToString(), publish.Metadata["partitionKey"]);
        var cloudEvent = JsonNode.Parse(publish.Data.ToStringUtf8())!;
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
    public async Task A_failed_publish_is_reported_for_its_event_and_the_rest_of_the_batch_is_still_published()
    {
        var bus = _services.GetRequiredService<IEventBus>();
        var first = EventEnvelope.From(new InvoiceMatched(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow, "INV-1"));
        var second = EventEnvelope.From(new InvoiceMatched(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow, "INV-2"));
        _sidecar.FailNextPublishes = 1;

        var failures = await bus.PublishBatchAsync([first, second], Ct);

        Assert.Equal([first.Id], failures.Keys);
        Assert.Equal(2, _sidecar.CallsOf<PublishEventRequest>().Count());
    }

    [Fact]
    public async Task Start_up_waits_until_the_sidecar_reports_its_components_healthy()
    {
        _sidecar.UnhealthyProbes = 2;

        await StartHostedServicesAsync(_services);

        Assert.Equal(3, _sidecar.HealthProbes.Count);
    }

    [Fact]
    public async Task Start_up_fails_with_a_clear_error_when_no_sidecar_answers_in_time()
    {
        var (httpPort, grpcPort) = (_sidecar.HttpPort, _sidecar.GrpcPort);
        await _sidecar.DisposeAsync();
        _sidecar = await StandInDaprSidecar.StartAsync(ApiToken);
        await using var services = DaprTestServices.For(httpPort, grpcPort, ApiToken, new Dictionary<string, string?> { ["Dapr:SidecarStartupTimeout"] = "00:00:01" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartHostedServicesAsync(services));

        Assert.Contains($"127.0.0.1:{httpPort}", error.Message);
        Assert.Contains("DAPR_HTTP_PORT", error.Message);
    }

    [Fact]
    public async Task Start_up_refuses_a_secret_store_that_serves_development_secrets_and_names_each()
    {
        foreach (var (name, value) in DevelopmentSecrets.Values)
        {
            _sidecar.Secrets[name] = value;
        }

        // One replaced, one missing, one the app may not read: only the rest are development values it can see.
        _sidecar.Secrets[SecretNames.JwtSigningKey] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        _sidecar.Secrets.TryRemove(SecretNames.QuickBooksClientSecret, out _);
        _sidecar.DeniedSecrets.Add("redis-password");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartHostedServicesAsync(_services));

        string[] notDevelopment = [SecretNames.JwtSigningKey, SecretNames.QuickBooksClientSecret, "redis-password"];
        var named = DevelopmentSecrets.Values.Keys.Where(name => error.Message.Contains(name, StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(DevelopmentSecrets.Values.Keys.Except(notDevelopment).Order().ToList(), named);
    }

    [Fact]
    public void The_development_secrets_are_those_of_components_secrets_json()
    {
        var file = Path.Combine(Deployment.DeploymentFilesTests.Root, "components", "secrets.json");

        var shipped = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file))!;

        Assert.Equal(shipped.OrderBy(p => p.Key), DevelopmentSecrets.Values.OrderBy(p => p.Key));
    }

    [Theory]
    [InlineData(null, null, "DAPR_API_TOKEN|APP_API_TOKEN")]
    [InlineData("dev-dapr-api-token", "dev-app-api-token", "DAPR_API_TOKEN|APP_API_TOKEN")]
    [InlineData("a-random-sidecar-token-0123456789", "dev-app-api-token", "APP_API_TOKEN")]
    [InlineData("", "a-random-app-token-0123456789", "DAPR_API_TOKEN")]
    public async Task Dapr_mode_refuses_missing_or_development_api_tokens_and_names_each(string? daprApiToken, string? appApiToken, string refused)
    {
        await using var services = DaprTestServices.For(_sidecar.HttpPort, _sidecar.GrpcPort, daprApiToken, new Dictionary<string, string?> { ["APP_API_TOKEN"] = appApiToken });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DaprOptions>>().Value);

        var named = new[] { "DAPR_API_TOKEN", "APP_API_TOKEN" }.Where(variable => error.Failures.Any(f => f.StartsWith(variable, StringComparison.Ordinal)));
        Assert.Equal(refused, string.Join('|', named));
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
