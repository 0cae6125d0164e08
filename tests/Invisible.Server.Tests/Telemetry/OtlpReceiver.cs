using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Invisible.Server.Tests.Telemetry.Otlp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Invisible.Server.Tests.Telemetry;

/// <summary>A span as received, with the resource (service) that sent it.</summary>
public sealed record ReceivedSpan(string ServiceName, string Scope, Span Span)
{
    public string TraceId => Convert.ToHexString(Span.TraceId.Span);

    public string SpanId => Convert.ToHexString(Span.SpanId.Span);

    public string ParentSpanId => Convert.ToHexString(Span.ParentSpanId.Span);

    public string? Attribute(string key) => Span.Attributes.FirstOrDefault(a => a.Key == key)?.Value is { } value
        ? value.ValueCase == AnyValue.ValueOneofCase.StringValue ? value.StringValue : value.ToString()
        : null;
}

/// <summary>An OTLP/HTTP (http/protobuf) collector in the test: <c>POST /v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    public ConcurrentDictionary<string, string> MetricNames { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<LogRecord> Logs { get; } = new();

    public string Endpoint { get; private set; } = "";

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            var export = ExportTraceServiceRequest.Parser.ParseFrom(await ReadAsync(request));
            foreach (var resource in export.ResourceSpans)
            {
                var service = resource.Resource?.Attributes.FirstOrDefault(a => a.Key == "service.name")?.Value.StringValue ?? "";
                foreach (var scope in resource.ScopeSpans)
                {
                    foreach (var span in scope.Spans)
                    {
                        receiver.Spans.Enqueue(new ReceivedSpan(service, scope.Scope?.Name ?? "", span));
                    }
                }
            }

            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            var export = ExportMetricsServiceRequest.Parser.ParseFrom(await ReadAsync(request));
            foreach (var metric in export.ResourceMetrics.SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics.Select(m => (s.Scope?.Name ?? "", m.Name))))
            {
                receiver.MetricNames[metric.Item2] = metric.Item1;
            }

            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/logs", async (HttpRequest request) =>
        {
            var export = ExportLogsServiceRequest.Parser.ParseFrom(await ReadAsync(request));
            foreach (var record in export.ResourceLogs.SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords))
            {
                receiver.Logs.Enqueue(record);
            }

            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        receiver.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return receiver;
    }

    private static async Task<byte[]> ReadAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
