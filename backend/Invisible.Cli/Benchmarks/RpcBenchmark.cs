using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Invisible.Cli.Benchmarks.Rpc;
using Invisible.Identity;
using Invisible.Identity.Tokens;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;
using Invisible.Server.Audit;
using Invisible.Data.Tenancy;
using Invisible.Server.Exceptions;
using Invisible.Server.Rpc;
using Invisible.Server.Hosting;
using Invisible.Server.Http;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Invisible.Server.Realtime;
using Invisible.Server.Security;
using Invisible.Server.Tenancy;
using Invisible.Server.Vendors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// Throughput and latency of the product's gRPC stack on loopback: a unary call with a small message and a 100-message
/// server stream, over native gRPC (h2c, driven by h2load) and gRPC-Web (HTTP/1.1, driven by wrk), at 1, 16 and 64
/// concurrent streams, served by Grpc.AspNetCore with the product's transport registration and middleware. Baseline,
/// measured in the same run: a bare Kestrel endpoint on the same kinds of ports that returns exactly the same response
/// bytes without any protocol work. Then REST/JSON on the real product: <c>GET /v1/invoices</c> (a page of 50) with an
/// API key, against the same JSON bytes from bare Kestrel and against the page query alone on PostgreSQL.
/// </summary>
internal sealed partial class RpcBenchmark : IBenchmark
{
    private const int StreamLength = 100;
    private const int MeasureSeconds = 3;
    private const int Rounds = 2;
    private const double ThroughputTarget = 0.7;
    private const double LatencyTargetMs = 5;
    private const int InvoicePageSize = 50;
    private const string InvoicesPath = "/v1/invoices";
    private static readonly int[] ConcurrentStreams = [1, 16, 64];
    private static readonly int[] StreamsWithThroughputTarget = [16, 64];

    public string Name => "rpc";

    public string Description =>
        $"gRPC (h2c, h2load) and gRPC-Web (HTTP/1.1, wrk) on the product's Grpc.AspNetCore stack: unary and 100-message streams vs a bare Kestrel endpoint; " +
        $"REST GET {InvoicesPath} on the running product vs the same JSON from bare Kestrel and vs the page query alone; best of {Rounds} alternating rounds";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        RequireTool("h2load", "nghttp2-client");
        RequireTool("wrk", "wrk");
        var figures = new List<BenchmarkFigure>();
        figures.AddRange(await MeasureGrpcAsync(context, cancellationToken));
        figures.AddRange(await MeasureRestAsync(context, cancellationToken));
        return figures;
    }

    private static async Task<IReadOnlyList<BenchmarkFigure>> MeasureGrpcAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        var requestFrame = Frame(new BenchRequest { Name = "bench" });
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
                    var web = protocol.StartsWith("gRPC-Web", StringComparison.Ordinal);
                    Task<LoadResult> Measure(BenchServer server) => web
                        ? RunWrkAsync(server.HttpPort, BenchServer.PathOf(method), streams, ["-s", wrkScript], cancellationToken)
                        : RunH2LoadAsync(server.GrpcPort, BenchServer.PathOf(method), streams, requestFile, h2loadLog, cancellationToken);
                    var (ours, bare) = await BestOfAlternatingRoundsAsync(() => Measure(product), () => Measure(baseline));

                    context.Report($"  product {Describe(ours)}; baseline {Describe(bare)}");
                    var unary = method == "Unary";
                    var throughputTarget = unary && StreamsWithThroughputTarget.Contains(streams);
                    figures.Add(new BenchmarkFigure($"{label}: requests/s", ours.RequestsPerSecond, "req/s", bare.RequestsPerSecond,
                        throughputTarget ? $"≥ {ThroughputTarget}× baseline" : null, throughputTarget ? ours.RequestsPerSecond >= ThroughputTarget * bare.RequestsPerSecond : null));
                    figures.Add(new BenchmarkFigure($"{label}: p50 latency", ours.P50Ms, "ms", bare.P50Ms));
                    var latencyTarget = unary && streams == ConcurrentStreams[^1];
                    figures.Add(new BenchmarkFigure($"{label}: p99 latency", ours.P99Ms, "ms", bare.P99Ms,
                        latencyTarget ? $"< {LatencyTargetMs} ms" : null, latencyTarget ? ours.P99Ms < LatencyTargetMs : null));
                }
            }
        }

        return figures;
    }

    /// <summary>
    /// <c>GET /v1/invoices</c> on the product as <c>invisible up</c> runs it (embedded PostgreSQL, the demo tenant's 300
    /// generated invoices imported and reconciled, a clerk's API key): JSON transcoding, API key authentication against the
    /// database, the access policy, the page query. Two baselines: bare Kestrel answering the same JSON bytes (what HTTP
    /// alone costs), and the handler's page query alone, run in process through the product's tenant unit of work by as
    /// many concurrent callers (what the database alone costs).
    /// </summary>
    private static async Task<IReadOnlyList<BenchmarkFigure>> MeasureRestAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        context.Report("REST: starting the product on a fresh data directory with the demo tenant (import and reconcile not timed)");
        var dataDirectory = Path.Combine(context.WorkDirectory, "product");
        // The request-rate buckets stay in the path (their cost is measured) but far above what the load generator asks for:
        // one API key at full speed is exactly what they exist to refuse.
        await using var product = await InvisibleServer.StartAsync(
            [
                $"--Server:DataDirectory={dataDirectory}", "--Server:HttpPort=0", "--Server:GrpcPort=0",
                "--RateLimits:CallerRequestsPerSecond=1000000", "--RateLimits:CallerBurst=1000000",
                "--RateLimits:TenantRequestsPerSecond=1000000", "--RateLimits:TenantBurst=1000000",
            ],
            configure: null, context.Logging, cancellationToken);
        await DemoTenant.EnsureAsync(product.Services, cancellationToken);
        var tenant = await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(DemoTenant.Slug, cancellationToken)
            ?? throw new InvalidOperationException("The demo tenant was not created.");
        var (_, apiKey) = await LocalOperator.CreateApiKeyAsync(product.Services, DemoTenant.Slug, "bench rpc", Roles.Clerk, expiresAt: null, cancellationToken);
        var productPort = new Uri(product.Endpoints.Http).Port;

        var (json, contentType) = await GetInvoicePageAsync(productPort, apiKey, cancellationToken);
        await using var baseline = await BenchServer.StartJsonBaselineAsync(json, contentType, cancellationToken);
        var tenants = product.Services.GetRequiredService<TenantDatabase>();
        string[] withApiKey = ["-H", $"{CallerAuthentication.ApiKeyHeader}: {apiKey}"];

        var figures = new List<BenchmarkFigure>();
        foreach (var connections in ConcurrentStreams)
        {
            var label = $"REST GET {InvoicesPath} ({InvoicePageSize} per page, {json.Length:N0} B JSON), {connections} connections";
            context.Report($"{label}: product, then bare Kestrel, then the page query alone");
            var (ours, bare) = await BestOfAlternatingRoundsAsync(
                () => RunWrkAsync(productPort, InvoicesPath, connections, withApiKey, cancellationToken, tolerateFailures: true),
                () => RunWrkAsync(baseline.HttpPort, InvoicesPath, connections, withApiKey, cancellationToken, tolerateFailures: true));
            var query = await RunPageQueryAsync(tenants, tenant.Id, connections, cancellationToken);
            query = Better(query, await RunPageQueryAsync(tenants, tenant.Id, connections, cancellationToken));

            context.Report($"  product {Describe(ours)}; bare Kestrel {Describe(bare)}; page query alone {Describe(query)}");
            figures.Add(new BenchmarkFigure($"{label}: requests/s{FailedNote(ours, bare)}", ours.RequestsPerSecond, "req/s", bare.RequestsPerSecond));
            figures.Add(new BenchmarkFigure($"{label}: p50 latency", ours.P50Ms, "ms", bare.P50Ms));
            figures.Add(new BenchmarkFigure($"{label}: p99 latency", ours.P99Ms, "ms", bare.P99Ms));
            figures.Add(new BenchmarkFigure($"  same, baseline the page query alone on PostgreSQL: requests/s{FailedNote(ours, query)}", ours.RequestsPerSecond, "req/s", query.RequestsPerSecond));
            figures.Add(new BenchmarkFigure($"  same, baseline the page query alone on PostgreSQL: p50 latency", ours.P50Ms, "ms", query.P50Ms));
            figures.Add(new BenchmarkFigure($"  same, baseline the page query alone on PostgreSQL: p99 latency", ours.P99Ms, "ms", query.P99Ms));
        }

        return figures;
    }

    private static string FailedNote(LoadResult product, LoadResult baseline) =>
        product.Failures + baseline.Failures == 0 ? "" : $" ({product.Failures:N0} failed, baseline {baseline.Failures:N0})";

    private static string Describe(LoadResult result) =>
        string.Create(CultureInfo.InvariantCulture, $"{result.RequestsPerSecond:N0} req/s, p50 {result.P50Ms:0.###} ms, p99 {result.P99Ms:0.###} ms, {result.Failures} failed");

    /// <summary>The page the product answers, checked to be a full page, so that both baselines stand for the same work.</summary>
    private static async Task<(byte[] Json, string ContentType)> GetInvoicePageAsync(int port, string apiKey, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{port}{InvoicesPath}"));
        request.Headers.Add(CallerAuthentication.ApiKeyHeader, apiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        var json = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {InvoicesPath} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(json)}");
        }

        using var page = JsonDocument.Parse(json);
        var invoices = page.RootElement.TryGetProperty("invoices", out var list) ? list.GetArrayLength() : 0;
        if (invoices != InvoicePageSize)
        {
            throw new InvalidOperationException($"GET {InvoicesPath} answered {invoices} invoices, not a page of {InvoicePageSize}.");
        }

        return (json, response.Content.Headers.ContentType?.ToString() ?? "application/json");
    }

    /// <summary>
    /// What <c>ListInvoices</c> asks of the database, without HTTP, authentication or JSON: <paramref name="callers"/>
    /// concurrent loops, each opening the tenant's unit of work and running the same page query, for as long as wrk runs.
    /// </summary>
    private static async Task<LoadResult> RunPageQueryAsync(TenantDatabase tenants, Guid tenantId, int callers, CancellationToken cancellationToken)
    {
        var search = new InvoiceSearch(Status: null, VendorCode: null, Query: null, InvoiceSortBy.ImportOrder, Descending: false);

        var failures = 0;
        async Task<List<double>> CallerAsync(long until)
        {
            var latenciesMs = new List<double>();
            while (Stopwatch.GetTimestamp() < until)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
                    await InvoiceQueries.SearchAsync(unitOfWork, search, offset: 0, InvoicePageSize, cancellationToken);
                    latenciesMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                catch (Npgsql.NpgsqlException)
                {
                    // Counted like wrk's failed requests: the product's pool can ask PostgreSQL for more connections than it allows.
                    Interlocked.Increment(ref failures);
                }
            }

            return latenciesMs;
        }

        async Task<(double Seconds, double[] LatenciesMs)> RunForAsync(int seconds)
        {
            var started = Stopwatch.GetTimestamp();
            var until = started + seconds * Stopwatch.Frequency;
            var all = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(() => CallerAsync(until), cancellationToken)));
            return (Stopwatch.GetElapsedTime(started).TotalSeconds, all.SelectMany(latencies => latencies).Order().ToArray());
        }

        await RunForAsync(1);
        failures = 0;
        var (elapsed, measured) = await RunForAsync(MeasureSeconds);
        return new LoadResult(measured.Length / elapsed, Percentile(measured, 0.50), Percentile(measured, 0.99), failures);
    }

    /// <summary>
    /// Rounds alternate product and baseline, and each side keeps its best round: on a shared machine a burst of someone
    /// else's work then hits both sides alike instead of deciding the ratio.
    /// </summary>
    private static async Task<(LoadResult Product, LoadResult Baseline)> BestOfAlternatingRoundsAsync(Func<Task<LoadResult>> product, Func<Task<LoadResult>> baseline)
    {
        var ours = await product();
        var bare = await baseline();
        for (var round = 1; round < Rounds; round++)
        {
            ours = Better(ours, await product());
            bare = Better(bare, await baseline());
        }

        return (ours, bare);
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
                    throw new InvalidOperationException(
                        $"{method} ({(web ? "gRPC-Web" : "gRPC")}): the product answered {ours.Length} bytes that differ from the baseline's {bare.Length}: " +
                        $"{Convert.ToHexString(ours.AsSpan(Math.Max(0, ours.Length - 40)))} vs {Convert.ToHexString(bare.AsSpan(Math.Max(0, bare.Length - 40)))} (last 40 bytes).");
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

    /// <param name="requestArguments">How wrk builds the request: a Lua script (gRPC-Web) or headers (REST).</param>
    /// <param name="tolerateFailures">Count failed requests instead of stopping: the product's REST path answers errors under load.</param>
    private static async Task<LoadResult> RunWrkAsync(
        int port, string path, int connections, string[] requestArguments, CancellationToken cancellationToken, bool tolerateFailures = false)
    {
        string[] Arguments(int seconds) =>
            ["-t", $"{Math.Min(connections, 2)}", "-c", $"{connections}", "-d", $"{seconds}s", "--latency", .. requestArguments, $"http://127.0.0.1:{port}{path}"];
        await RunToolAsync("wrk", Arguments(1), cancellationToken);
        var output = await RunToolAsync("wrk", Arguments(MeasureSeconds), cancellationToken);
        var failures = WrkFailures().Matches(output)
            .SelectMany(match => match.Groups.Values.Skip(1).Where(group => group.Success))
            .Sum(count => int.Parse(count.Value, CultureInfo.InvariantCulture));
        if (failures > 0 && !tolerateFailures)
        {
            throw new InvalidOperationException($"wrk saw failed requests:{Environment.NewLine}{output}");
        }

        return new LoadResult(ParseDouble(WrkThroughput().Match(output), output), WrkPercentile(output, "50"), WrkPercentile(output, "99"), failures);
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

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)|Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex WrkFailures();

    /// <param name="Failures">Requests that failed or timed out; only the REST rows tolerate any, and say how many.</param>
    private sealed record LoadResult(double RequestsPerSecond, double P50Ms, double P99Ms, int Failures = 0);

    private static LoadResult Better(LoadResult best, LoadResult candidate) =>
        candidate.RequestsPerSecond > best.RequestsPerSecond ? candidate : best;

    /// <summary>A Kestrel server on loopback: an HTTP/1.1 port and, for gRPC, an h2c port.</summary>
    private sealed class BenchServer(WebApplication app) : IAsyncDisposable
    {
        private static readonly BenchReply Reply = new() { Status = 1 };

        private readonly int[] _ports = PortsOf(app);

        public int HttpPort => _ports[0];

        public int GrpcPort => _ports[1];

        public static string PathOf(string method) => $"/{RpcBench.Descriptor.FullName}/{method}";

        /// <summary>
        /// The product's gRPC stack around a tiny service: the composition root's transport registration
        /// (<see cref="GrpcHosting.AddGrpcTransport"/>: error interceptor, limits, gzip option, JSON transcoding, reflection,
        /// health, CORS), its caller authentication and access policies, the sign-in rate-limit interceptor every call passes,
        /// its logging set-up and <c>appsettings.json</c>, and <see cref="ServerComposition.UseInvisiblePipeline"/>'s middleware
        /// in its order, with the product's services mapped so routing sees the product's endpoint table. Left out, because
        /// they need the database or the file system and no gRPC call passes through them: the services' own dependencies
        /// (never resolved: the bench calls only its own service), the database readiness check, OpenAPI and the SPA fallback.
        /// The bench methods are anonymous, as health and reflection are: authentication still runs on every call (the
        /// policy scheme forwards to JwtBearer, which finds no token), but verifying a token or key is a database round trip
        /// per call, which the REST figures measure on the real product.
        /// </summary>
        public static async Task<BenchServer> StartProductAsync(CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders().AddProductConsole();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Loopback, httpPort: 0, grpcPort: 0));
            builder.Services.AddGrpcTransport();
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.AddSingleton<ISecretStore, GeneratedSigningKey>();
            builder.Services.AddOptions<AccessTokenOptions>().BindConfiguration(AccessTokenOptions.Section);
            builder.Services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.Section);
            builder.Services.AddSingleton<AccessTokenService>();
            builder.Services.AddSingleton<AuthRateLimiter>();
            builder.Services.AddCallerAuthentication();
            builder.Services.AddOptions<global::Grpc.AspNetCore.Server.GrpcServiceOptions>().Configure(grpc => grpc.Interceptors.Add<SignInRateLimitInterceptor>());
            var app = builder.Build();

            app.UseSecurityHeaders();
            app.UseGrpcTransport();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapHealthEndpoints();
            app.MapAccounts().MapImports().MapRealtime().MapMatching().MapExceptions().MapVendors().MapAudit();
            app.MapGrpcInfrastructure();
            app.EnsureEveryMethodDeclaresAccess();
            app.MapGrpcService<BenchService>();
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
            var app = CreateBareKestrel(withH2c: true);
            app.Run(async http =>
            {
                await DrainRequestAsync(http);
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

        /// <summary>Bare Kestrel on HTTP/1.1 answering every request with <paramref name="json"/>, as the product's REST page.</summary>
        public static async Task<BenchServer> StartJsonBaselineAsync(byte[] json, string contentType, CancellationToken cancellationToken)
        {
            var app = CreateBareKestrel(withH2c: false);
            app.Run(async http =>
            {
                await DrainRequestAsync(http);
                http.Response.ContentType = contentType;
                http.Response.ContentLength = json.Length;
                await http.Response.Body.WriteAsync(json, http.RequestAborted);
            });
            await app.StartAsync(cancellationToken);
            return new BenchServer(app);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        private static WebApplication CreateBareKestrel(bool withH2c)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
                if (withH2c)
                {
                    kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
                }
            });
            return builder.Build();
        }

        private static async Task DrainRequestAsync(HttpContext http)
        {
            var request = http.Request.BodyReader;
            while (true)
            {
                var read = await request.ReadAsync(http.RequestAborted);
                request.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }

        /// <summary>The trailers frame as Grpc.AspNetCore.Web writes it: lower-case names, ": " before the value.</summary>
        private static byte[] WebTrailersFrame()
        {
            var block = Encoding.ASCII.GetBytes("grpc-status: 0\r\n");
            var frame = new byte[5 + block.Length];
            frame[0] = 0x80;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)block.Length);
            block.CopyTo(frame, 5);
            return frame;
        }

        private static int[] PortsOf(WebApplication app) =>
            app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Select(address => new Uri(address).Port).ToArray();

        /// <summary>Anonymous, as health and reflection are; see <see cref="StartProductAsync"/> for why.</summary>
        [AllowAnonymous]
        private sealed class BenchService : RpcBench.RpcBenchBase
        {
            public override Task<BenchReply> Unary(BenchRequest request, ServerCallContext context) => Task.FromResult(Reply);

            public override async Task Stream(BenchRequest request, IServerStreamWriter<BenchReply> responseStream, ServerCallContext context)
            {
                for (var i = 0; i < StreamLength; i++)
                {
                    await responseStream.WriteAsync(Reply, context.CancellationToken);
                }
            }
        }

        /// <summary>The JWT signing key ring JwtBearer loads on the first call, generated instead of read from a data directory.</summary>
        private sealed class GeneratedSigningKey : ISecretStore
        {
            private readonly string _keyRing = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));

            public Task<string> GetSecretAsync(string name, CancellationToken cancellationToken) =>
                name == SecretNames.JwtSigningKey ? Task.FromResult(_keyRing) : throw new SecretNotFoundException(name, "benchmark's generated secrets");
        }
    }
}
