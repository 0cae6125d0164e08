using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Imports.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Server.Hosting;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using DocumentKind = Invisible.Ingestion.DocumentKind;
using ImportServiceClient = Invisible.Contracts.Imports.V1.ImportService.ImportServiceClient;
using RpcDocumentKind = Invisible.Contracts.Imports.V1.DocumentKind;

namespace Invisible.Server.Tests.Telemetry;

/// <summary>The product exporting to an in-test OTLP receiver, configured only by <c>OTEL_*</c> keys (no process environment).</summary>
public sealed class TelemetryServer : AccountsServer, IAsyncLifetime
{
    public OtlpReceiver Receiver { get; private set; } = null!;

    protected override IEnumerable<string> Settings =>
    [
        .. base.Settings,
        $"--OTEL_EXPORTER_OTLP_ENDPOINT={Receiver.Endpoint}",
        "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "--OTEL_BSP_SCHEDULE_DELAY=100",
        "--OTEL_BLRP_SCHEDULE_DELAY=100",
        "--OTEL_METRIC_EXPORT_INTERVAL=300",
    ];

    async Task IAsyncLifetime.InitializeAsync()
    {
        Receiver = await OtlpReceiver.StartAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TelemetryCollection : ICollectionFixture<TelemetryServer>
{
    public const string Name = "telemetry";
}

[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests(TelemetryServer server)
{
    [Fact]
    public async Task An_upload_and_the_re_match_it_causes_are_one_trace_with_the_import_stages_under_the_request_and_the_tenant_on_every_span()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,P-A4,Paper A4,10,10.00\n");
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nA-1,Acme Supplies,2026-01-12,GBP,PO-1,1,P-A4,Paper A4,10,10.00,100.00,100.00\n");
        await queue.ReconcileAsync();
        Assert.Equal(InvoiceStatus.AwaitingReceipt, (await queue.InvoiceAsync("A-1")).Status);

        var token = await queue.TokenAsync(Identity.Roles.Admin);
        var file = Encoding.UTF8.GetBytes($"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-15,10\n");
        await UploadAsync(queue.Tenant, token, file);
        await QueueTenant.EventuallyAsync(async () => (await queue.InvoiceAsync("A-1")).Status == InvoiceStatus.Matched, "the receipt upload re-matches A-1");

        var tenantId = queue.Tenant.Id.ToString();
        List<ReceivedSpan> spans = [];
        await QueueTenant.EventuallyAsync(() =>
        {
            spans = [.. server.Receiver.Spans];
            var upload = spans.Where(s => s.Span.Name.EndsWith("ImportService/CompleteUpload", StringComparison.Ordinal)).Select(s => s.TraceId).ToHashSet();
            var handled = spans.Where(s => s.Span.Name == "event.handle" && upload.Contains(s.TraceId)
                && s.Attribute("invisible.event.consumer") == "matching.reevaluate-after-import" && s.Attribute("invisible.tenant_id") == tenantId);
            // The dispatch span ends after its handlers (the first one now decides A-1 on arrival), so it is exported later.
            return Task.FromResult(handled.Any(h => h.Span.Links.Count == 1
                && spans.Any(s => s.Span.Name == "outbox.dispatch" && s.SpanId == Convert.ToHexString(h.Span.Links[0].SpanId.Span))));
        }, "the re-match's span and its dispatch are exported in the upload's trace");

        var request = spans.Single(s => s.Span.Name.Contains("ImportService/CompleteUpload", StringComparison.Ordinal) && s.Span.Kind == 2);
        var trace = spans.Where(s => s.TraceId == request.TraceId).ToList();
        var byId = trace.ToDictionary(s => s.SpanId);
        bool Under(ReceivedSpan span, ReceivedSpan ancestor)
        {
            for (var current = span; byId.TryGetValue(current.ParentSpanId, out var parent); current = parent)
            {
                if (parent.SpanId == ancestor.SpanId)
                {
                    return true;
                }
            }

            return false;
        }

        ReceivedSpan One(string name) => Assert.Single(trace, s => s.Span.Name == name && s.Attribute("invisible.import.kind") is null or "receipts");
        var import = One("import");
        Assert.Equal(request.SpanId, import.ParentSpanId);
        foreach (var stage in new[] { "import.stage", "import.merge", "import.commit" })
        {
            Assert.Equal(import.SpanId, One(stage).ParentSpanId);
        }

        foreach (var pass in new[] { "import.detect", "import.validate" })
        {
            Assert.Equal(One("import.stage").SpanId, One(pass).ParentSpanId);
        }

        // The subscriber continues the upload's trace: its span is under the request, linked to the outbox dispatch.
        var rematch = Assert.Single(trace, s => s.Span.Name == "event.handle" && s.Attribute("invisible.event.consumer") == "matching.reevaluate-after-import");
        Assert.True(Under(rematch, request), "the re-match span descends from the upload request");
        var dispatch = Assert.Single(spans, s => s.Span.Name == "outbox.dispatch" && s.SpanId == Convert.ToHexString(rematch.Span.Links.Single().SpanId.Span));
        Assert.Contains(dispatch.Span.Links, link => Convert.ToHexString(link.TraceId.Span) == request.TraceId);
        Assert.Contains(trace, s => s.Scope == "Npgsql" && Under(s, import));

        foreach (var span in trace.Where(s => s.Scope == "Invisible"))
        {
            Assert.True(span.Attribute("invisible.tenant_id") == tenantId, $"{span.Span.Name} carries the tenant");
        }

        Assert.All(trace, s => Assert.Equal("invisible", s.ServiceName));
        Assert.Contains(server.Receiver.Logs, log => Convert.ToHexString(log.TraceId.Span) == request.TraceId);
    }

    [Fact]
    public async Task The_operator_metrics_are_exported()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nB-1,Acme Supplies,2026-01-12,GBP,PO-9,1,P-A4,Paper A4,10,10.00,100.00,100.00\n");
        await queue.ReconcileAsync();
        await queue.Tenant.SignInAsync(queue.Tenant.Admin, "not the password");

        string[] expected =
        [
            "invisible.invoices.decided", "invisible.invoices.touchless_rate", "invisible.exceptions.open", "invisible.import.rows",
            "invisible.outbox.lag", "invisible.signin.failures", "http.server.request.duration",
        ];
        try
        {
            await QueueTenant.EventuallyAsync(() => Task.FromResult(expected.All(server.Receiver.MetricNames.ContainsKey)), "every metric is exported");
        }
        catch (TimeoutException)
        {
            Assert.Equal([], expected.Where(name => !server.Receiver.MetricNames.ContainsKey(name)).ToArray());
        }

        Assert.All(expected.Where(name => name.StartsWith("invisible.", StringComparison.Ordinal)), name => Assert.Equal("Invisible", server.Receiver.MetricNames[name]));
    }

    private async Task UploadAsync(TestTenant tenant, string token, byte[] file)
    {
        var start = (await tenant.CallAsync(Method("StartUpload"),
            new StartUploadRequest { Kind = RpcDocumentKind.Receipts, FileName = "receipts.csv", Size = file.Length }, token)).As<StartUploadResponse>();
        await tenant.CallAsync(Method("UploadChunk"), new UploadChunkRequest { UploadId = start.UploadId, Offset = 0, Data = ByteString.CopyFrom(file) }, token);
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        using var call = new ImportServiceClient(channel).CompleteUpload(
            new CompleteUploadRequest { UploadId = start.UploadId, Sha256 = Convert.ToHexString(SHA256.HashData(file)) },
            new Metadata { { "authorization", $"Bearer {token}" } });
        await foreach (var _ in call.ResponseStream.ReadAllAsync())
        {
        }
    }

    private static Google.Protobuf.Reflection.MethodDescriptor Method(string name) => ImportsReflection.Descriptor.Services[0].FindMethodByName(name);
}

/// <summary>
/// With no OTLP endpoint configured nothing of OpenTelemetry exports: no tracer, no OTLP exporter, no log listener. The one
/// provider left is the meters' for <c>GET /metrics</c> (Prometheus scrapes it; <c>Operations/PrometheusTests</c>).
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class NoTelemetryTests(AccountsServer server)
{
    [Fact]
    public void The_running_product_without_OTEL_settings_has_no_tracer_or_OpenTelemetry_logger_and_meters_only_for_metrics_scraping()
    {
        Assert.Null(server.Server.Services.GetService<TracerProvider>());
        Assert.NotNull(server.Server.Services.GetService<MeterProvider>());
        Assert.Null(server.Server.Services.GetService<LoggerProvider>());
        Assert.DoesNotContain(server.Server.Services.GetServices<ILoggerProvider>(), provider => provider is OpenTelemetryLoggerProvider);
    }

    [Fact]
    public void Only_the_signals_with_an_endpoint_are_registered()
    {
        static IServiceCollection Registered(params (string Key, string Value)[] settings)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
            return new ServiceCollection().AddProductTelemetry(configuration, ServerRole.Api);
        }

        static bool OpenTelemetryIn(IServiceCollection services) => services.Any(d => d.ServiceType.FullName?.StartsWith("OpenTelemetry", StringComparison.Ordinal) == true);

        Assert.False(OpenTelemetryIn(Registered()));
        Assert.False(OpenTelemetryIn(Registered(("OTEL_SERVICE_NAME", "x"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"))));
        using var tracesOnly = Registered(("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:1/v1/traces")).BuildServiceProvider();
        Assert.NotNull(tracesOnly.GetService<TracerProvider>());
        Assert.Null(tracesOnly.GetService<MeterProvider>());
        Assert.Equal("invisible-api", ProductTelemetry.ServiceName(new ConfigurationBuilder().Build(), ServerRole.Api));
        Assert.Equal("invisible-worker", ProductTelemetry.ServiceName(new ConfigurationBuilder().Build(), ServerRole.Worker));
    }
}
