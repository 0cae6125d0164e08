using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using Invisible.Rpc;
using Invisible.Rpc.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// Throughput and latency of the gRPC layer on loopback: a unary call with a small message and a 100-message
/// server stream, over native gRPC (h2c, driven by h2load) and gRPC-Web (HTTP/1.1, driven by wrk), at 1, 16 and 64
/// concurrent streams. Baseline, measured in the same run: a bare Kestrel endpoint on the same kinds of ports
/// that returns exactly the same response bytes without any protocol work.
/// </summary>
internal sealed partial class RpcBenchmark : IBenchmark
{
    private const int StreamLength = 100;
    private const int MeasureSeconds = 3;
    private const int Rounds = 2;
    private const double ThroughputTarget = 0.6;
    private const double LatencyTargetMs = 5;
    private static readonly int[] ConcurrentStreams = [1, 16, 64];

    public string Name => "rpc";

    public string Description => $"gRPC (h2c, h2load) and gRPC-Web (HTTP/1.1, wrk): unary and 100-message streams vs a bare Kestrel endpoint, best of {Rounds} alternating rounds";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        RequireTool("h2load", "nghttp2-client");
        RequireTool("wrk", "wrk");
        var requestFrame = Frame(new HealthCheckRequest { Service = "bench" });
        await using var product = await BenchServer.StartProductAsync(cancellationToken);
        await using var baseline = await BenchServer.StartBaselineAsync(cancellationToken);
        await VerifySameBytesAsync(product, baseline, requestFrame, cancellationToken);

        var requestFile = Path.Combine(context.WorkDirectory, "request.bin");
        await File.WriteAllBytesAsync(requestFile, requestFrame, cancellationToken);
        var wrkScript = Path.Combine(context.WorkDirectory, "grpc-web.lua");
        await File.WriteAllTextAsync(wrkScript, WrkScript(requestFrame), cancellationToken);

        var h2loadLog = Path.Combine(context.WorkDirectory, "h2load.log");
        context.Report("warm-up: both servers, both methods (JIT tiering, pools)");
        foreach (var server in new[] { product, baseline })
        {
            foreach (var method in new[] { "Unary", "Stream" })
            {
                await RunH2LoadAsync(server.GrpcPort, BenchServer.PathOf(method), 16, requestFile, h2loadLog, cancellationToken);
            }
        }

        var figures = new List<BenchmarkFigure>();
        foreach (var method in new[] { "Unary", "Stream" })
        {
            foreach (var protocol in new[] { "gRPC h2c", "gRPC-Web HTTP/1.1" })
            {
                foreach (var streams in ConcurrentStreams)
                {
                    var label = $"{(method == "Unary" ? "unary" : $"{StreamLength}-message stream")}, {protocol}, {streams} streams";
                    context.Report($"{label}: product, then baseline");
                    var measure = protocol.StartsWith("gRPC-Web", StringComparison.Ordinal)
                        ? (Func<int, string, Task<LoadResult>>)((port, path) => RunWrkAsync(port, path, streams, wrkScript, cancellationToken))
                        : (port, path) => RunH2LoadAsync(port, path, streams, requestFile, h2loadLog, cancellationToken);
                    var web = protocol.StartsWith("gRPC-Web", StringComparison.Ordinal);
                    // Rounds alternate product and baseline, and each side keeps its best round: on a shared machine a
                    // burst of someone else's work then hits both sides alike instead of deciding the ratio.
                    var ours = await measure(web ? product.HttpPort : product.GrpcPort, BenchServer.PathOf(method));
                    var bare = await measure(web ? baseline.HttpPort : baseline.GrpcPort, BenchServer.PathOf(method));
                    for (var round = 1; round < Rounds; round++)
                    {
                        ours = Better(ours, await measure(web ? product.HttpPort : product.GrpcPort, BenchServer.PathOf(method)));
                        bare = Better(bare, await measure(web ? baseline.HttpPort : baseline.GrpcPort, BenchServer.PathOf(method)));
                    }

                    var unary = method == "Unary";
                    figures.Add(new BenchmarkFigure($"{label}: requests/s", ours.RequestsPerSecond, "req/s", bare.RequestsPerSecond,
                        unary ? $"≥ {ThroughputTarget}× baseline" : null, unary ? ours.RequestsPerSecond >= ThroughputTarget * bare.RequestsPerSecond : null));
                    figures.Add(new BenchmarkFigure($"{label}: p50 latency", ours.P50Ms, "ms", bare.P50Ms));
                    var latencyTarget = unary && streams == ConcurrentStreams[^1];
                    figures.Add(new BenchmarkFigure($"{label}: p99 latency", ours.P99Ms, "ms", bare.P99Ms,
                        latencyTarget ? $"< {LatencyTargetMs} ms" : null, latencyTarget ? ours.P99Ms < LatencyTargetMs : null));
                }
            }
        }

        return figures;
    }

    /// <summary>Both servers must answer each request with identical bytes, or the comparison means nothing.</summary>
    private static async Task VerifySameBytesAsync(BenchServer product, BenchServer baseline, byte[] requestFrame, CancellationToken cancellationToken)
    {
        using var http2 = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var http11 = new HttpClient();
        foreach (var method in new[] { "Unary", "Stream" })
        {
            foreach (var (client, web) in new[] { (http2, false), (http11, true) })
            {
                var ours = await PostAsync(client, web ? product.HttpPort : product.GrpcPort, BenchServer.PathOf(method), web, requestFrame, cancellationToken);
                var bare = await PostAsync(client, web ? baseline.HttpPort : baseline.GrpcPort, BenchServer.PathOf(method), web, requestFrame, cancellationToken);
                if (!ours.SequenceEqual(bare))
                {
                    throw new InvalidOperationException($"{method} ({(web ? "gRPC-Web" : "gRPC")}): the product answered {ours.Length} bytes that differ from the baseline's {bare.Length}.");
                }
            }
        }
    }

    private static async Task<byte[]> PostAsync(HttpClient client, int port, string path, bool web, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://127.0.0.1:{port}{path}")) { Version = client.DefaultRequestVersion, VersionPolicy = client.DefaultVersionPolicy, Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", web ? "application/grpc-web+proto" : "application/grpc");
        using var response = await client.SendAsync(request, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    private static async Task<LoadResult> RunH2LoadAsync(int port, string path, int streams, string requestFile, string logFile, CancellationToken cancellationToken)
    {
        // Several connections share the streams, as a pool of channels would; h2load gets one thread of the machine.
        var connections = Math.Min(streams, 8);
        var output = await RunToolAsync("h2load",
            ["-c", $"{connections}", "-m", $"{streams / connections}", "-t", "1", "-D", $"{MeasureSeconds}", "--warm-up-time=1",
             "-d", requestFile, "-H", "content-type: application/grpc", "-H", "te: trailers", "--log-file", logFile, $"http://127.0.0.1:{port}{path}"],
            cancellationToken);
        var requestsPerSecond = ParseDouble(H2LoadThroughput().Match(output), output);
        var failures = H2LoadFailures().Match(output);
        if (!failures.Success || failures.Groups[1].Value != "0" || failures.Groups[2].Value != "0")
        {
            throw new InvalidOperationException($"h2load saw failed or errored requests:{Environment.NewLine}{output}");
        }

        var latenciesMs = (await File.ReadAllLinesAsync(logFile, cancellationToken))
            .Select(line => line.Split('\t'))
            .Where(columns => columns.Length >= 3)
            .Select(columns => double.Parse(columns[2], CultureInfo.InvariantCulture) / 1000)
            .Order()
            .ToArray();
        File.Delete(logFile);
        return new LoadResult(requestsPerSecond, Percentile(latenciesMs, 0.50), Percentile(latenciesMs, 0.99));
    }

    private static async Task<LoadResult> RunWrkAsync(int port, string path, int connections, string script, CancellationToken cancellationToken)
    {
        string[] Arguments(int seconds) => ["-t", $"{Math.Min(connections, 2)}", "-c", $"{connections}", "-d", $"{seconds}s", "--latency", "-s", script, $"http://127.0.0.1:{port}{path}"];
        await RunToolAsync("wrk", Arguments(1), cancellationToken);
        var output = await RunToolAsync("wrk", Arguments(MeasureSeconds), cancellationToken);
        if (output.Contains("Non-2xx", StringComparison.Ordinal) || output.Contains("Socket errors", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"wrk saw failed requests:{Environment.NewLine}{output}");
        }

        return new LoadResult(ParseDouble(WrkThroughput().Match(output), output), WrkPercentile(output, "50"), WrkPercentile(output, "99"));
    }

    private static double WrkPercentile(string output, string percentile)
    {
        var match = Regex.Match(output, $@"^\s*{percentile}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline, TimeSpan.FromSeconds(1));
        var value = ParseDouble(match, output);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    private static double ParseDouble(Match match, string output) =>
        match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"Unexpected load tool output:{Environment.NewLine}{output}");

    private static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)];

    private static async Task<string> RunToolAsync(string tool, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {tool}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"{tool} exited with {process.ExitCode}: {await errors}{await output}");
    }

    private static void RequireTool(string tool, string debianPackage)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(directory => File.Exists(Path.Combine(directory, tool)));
        if (!found)
        {
            throw new InvalidOperationException($"`{tool}` is not installed; install it with `apt-get install -y {debianPackage}`.");
        }
    }

    /// <summary>wrk posts the framed request with Lua decimal escapes, so any byte survives.</summary>
    private static string WrkScript(byte[] requestFrame) =>
        $"""
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/grpc-web+proto"
        wrk.headers["X-Grpc-Web"] = "1"
        wrk.body = "{string.Concat(requestFrame.Select(b => $"\\{b}"))}"
        """;

    private static byte[] Frame(IMessage message)
    {
        var payload = message.ToByteArray();
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    [GeneratedRegex(@"finished in [\d.]+m?s, ([\d.]+) req/s")]
    private static partial Regex H2LoadThroughput();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored")]
    private static partial Regex H2LoadFailures();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex WrkThroughput();

    private sealed record LoadResult(double RequestsPerSecond, double P50Ms, double P99Ms);

    private static LoadResult Better(LoadResult best, LoadResult candidate) =>
        candidate.RequestsPerSecond > best.RequestsPerSecond ? candidate : best;

    /// <summary>A Kestrel server on loopback with an HTTP/1.1 port and an h2c port.</summary>
    private sealed class BenchServer(WebApplication app) : IAsyncDisposable
    {
        private static readonly HealthCheckResponse Reply = new() { Status = HealthCheckResponse.Types.ServingStatus.Serving };

        public int HttpPort { get; } = PortsOf(app)[0];

        public int GrpcPort { get; } = PortsOf(app)[1];

        public static string PathOf(string method) => $"/invisible.bench.v1.RpcBench/{method}";

        /// <summary>The product path: Invisible.Rpc with its full interceptor pipeline, serving a service bound from a descriptor.</summary>
        public static async Task<BenchServer> StartProductAsync(CancellationToken cancellationToken)
        {
            var builder = CreateBuilder();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Loopback, httpPort: 0, grpcPort: 0));
            builder.Services.AddInvisibleRpc().AddService<BenchHandler>(BenchServiceDescriptor());
            var app = builder.Build();
            app.UseInvisibleRpc();
            await app.StartAsync(cancellationToken);
            return new BenchServer(app);
        }

        /// <summary>
        /// Bare Kestrel writing the product's response bytes, precomputed: the cost of HTTP alone. It reads the request body
        /// to its end first, as any endpoint answering a POST must (and a gRPC server must, to see the whole message): an
        /// endpoint that left the body unread would skip Kestrel's request-body path and its flow-control updates, and the
        /// ratio would measure that instead of the protocol layer.
        /// </summary>
        public static async Task<BenchServer> StartBaselineAsync(CancellationToken cancellationToken)
        {
            var message = Frame(Reply);
            var unary = message;
            var stream = Enumerable.Repeat(message, StreamLength).SelectMany(bytes => bytes).ToArray();
            var webTrailers = WebTrailersFrame();
            var builder = CreateBuilder();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            });
            var app = builder.Build();
            app.Run(async http =>
            {
                var request = http.Request.BodyReader;
                while (true)
                {
                    var read = await request.ReadAsync(http.RequestAborted);
                    request.AdvanceTo(read.Buffer.End);
                    if (read.IsCompleted)
                    {
                        break;
                    }
                }

                var web = http.Request.ContentType?.StartsWith("application/grpc-web", StringComparison.Ordinal) == true;
                var body = http.Request.Path.Value!.EndsWith("/Stream", StringComparison.Ordinal) ? stream : unary;
                http.Response.ContentType = web ? "application/grpc-web+proto" : "application/grpc";
                await http.Response.Body.WriteAsync(web ? [.. body, .. webTrailers] : body, http.RequestAborted);
                if (!web)
                {
                    http.Response.AppendTrailer("grpc-status", "0");
                }
            });
            await app.StartAsync(cancellationToken);
            return new BenchServer(app);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        private static WebApplicationBuilder CreateBuilder()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            return builder;
        }

        private static byte[] WebTrailersFrame()
        {
            var block = Encoding.ASCII.GetBytes("grpc-status:0\r\n");
            var frame = new byte[5 + block.Length];
            frame[0] = 0x80;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)block.Length);
            block.CopyTo(frame, 5);
            return frame;
        }

        /// <summary>
        /// A service over the health messages, defined in code so the benchmark needs no proto of its own:
        /// the same descriptor protoc would generate for it.
        /// </summary>
        private static Google.Protobuf.Reflection.ServiceDescriptor BenchServiceDescriptor()
        {
            const string request = ".grpc.health.v1.HealthCheckRequest";
            const string response = ".grpc.health.v1.HealthCheckResponse";
            var file = new FileDescriptorProto
            {
                Name = "invisible/bench/v1/rpc_bench.proto",
                Package = "invisible.bench.v1",
                Syntax = "proto3",
                Dependency = { HealthReflection.Descriptor.Name },
                Service =
                {
                    new ServiceDescriptorProto
                    {
                        Name = "RpcBench",
                        Method =
                        {
                            new MethodDescriptorProto { Name = "Unary", InputType = request, OutputType = response },
                            new MethodDescriptorProto { Name = "Stream", InputType = request, OutputType = response, ServerStreaming = true },
                        },
                    },
                },
            };
            return FileDescriptor.FromGeneratedCode(file.ToByteArray(), [HealthReflection.Descriptor], new GeneratedClrTypeInfo(null, null, null)).Services[0];
        }

        private static int[] PortsOf(WebApplication app) =>
            app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Select(address => new Uri(address).Port).ToArray();

        [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Handlers are bound as instance methods.")]
        internal sealed class BenchHandler
        {
            public Task<HealthCheckResponse> Unary(HealthCheckRequest request, RpcCallContext context) => Task.FromResult(Reply);

            public async Task Stream(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> stream, RpcCallContext context)
            {
                for (var i = 0; i < StreamLength; i++)
                {
                    await stream.WriteAsync(Reply, context.CancellationToken);
                }
            }
        }
    }
}
