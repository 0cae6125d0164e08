using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Invisible.Data.Access;
using Invisible.Data.Embedded;
using Invisible.Data.Migrations;
using Invisible.Data.Provisioning;
using Invisible.Data.Tenancy;
using Invisible.Server.Hosting;
using Invisible.Server.Intake;
using LinqToDB.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Cli.Benchmarks.Load;

/// <summary>
/// Many tenants at once, as a SaaS deployment sees a working day: a PostgreSQL cluster started by the benchmark and used
/// as an external database, filled with generated tenants through the import path, then the product as deployments run
/// it (<c>serve --role all</c>, or with <c>--replicas 2</c> also two <c>api</c> and two <c>worker</c> processes) under
/// simulated clerks over gRPC-Web while busy tenants import files and receive e-mailed invoices. Baseline, same run: the
/// read calls' queries sent straight to PostgreSQL by as many users; with replicas, the single-process run beside them.
/// </summary>
internal sealed class LoadBenchmark : IBenchmark
{
    private const double P95TargetMs = 50;
    private const double P99TargetMs = 200;
    private const double ArrivalTargetMs = 1_000;
    private const double FlatMemoryGrowth = 0.10;

    // Percentiles of a call type with no requests are NaN.
    private static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string Name => "load";

    public string Description =>
        "multi-tenant mixed workload on loopback: clerks over gRPC-Web with Watch streams, busy tenants importing and receiving e-mails; " +
        "per call requests/s, p50/p95/p99, errors; product RSS over time; arrival → decision; baseline: the same page queries straight to PostgreSQL " +
        $"(sizes: {LoadSettings.Prefix}* variables; --replicas 2 adds 2 api + 2 worker processes)";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        var settings = LoadSettings.FromEnvironment();
        var replicas = context.Replicas ?? 1;
        var layouts = replicas > 1 ? new[] { 1, replicas } : [1];
        context.Report(settings.Describe());
        context.Report($"load average at the start: {LoadAverage()}");

        context.Report("starting the benchmark's PostgreSQL cluster (used as an external database by every product process)");
        await using var cluster = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = Path.Combine(context.WorkDirectory, "database") }, NullLogger.Instance, cancellationToken);
        await AllowConnectionsAsync(cluster, cancellationToken);
        var passwords = new DatabaseRolePasswords(Convert.ToHexString(RandomNumberGenerator.GetBytes(24)), Convert.ToHexString(RandomNumberGenerator.GetBytes(24)));
        var database = await new DatabaseProvisioner(DatabaseMigrator.ForEmbeddedMigrations(NullLogger<DatabaseMigrator>.Instance), NullLogger.Instance)
            .ProvisionAsync(cluster.SuperuserConnectionString(), "invisible", passwords, cancellationToken);
        await using var observer = new LoadObserver(cluster.SuperuserConnectionString("invisible"));

        var dataDirectory = Path.Combine(context.WorkDirectory, "product");
        var logs = Directory.CreateDirectory(Path.Combine(context.WorkDirectory, "logs")).FullName;
        var (tenants, intakeDomain) = await ProvisionAsync(context, settings, database, dataDirectory, layouts.Length, observer, cancellationToken);

        var runs = new List<(int Replicas, LoadReport Report, DeliveryCheck Delivery, MemoryTrace Memory)>();
        for (var run = 0; run < layouts.Length; run++)
        {
            runs.Add(await RunLayoutAsync(context, settings, database, dataDirectory, logs, layouts[run], tenants, intakeDomain, run, layouts.Length, observer, cancellationToken));
        }

        context.Report("baseline: the read calls' queries straight to PostgreSQL (tenant unit of work + SQL), same users, pauses and tenants");
        await using var appSource = NpgsqlDataSource.Create(database.AppConnectionString);
        var baseline = await LoadBaseline.RunAsync(
            new TenantDatabase(appSource), tenants.Where(tenant => !tenant.Busy).Take(settings.ClerkTenantCount).ToList(), settings, Math.Min(settings.Seconds, 30), cancellationToken);
        var load = LoadAverage();
        context.Report($"load average at the end: {load}");

        await WriteReportFileAsync(settings, runs, baseline, cancellationToken);
        var figures = new List<BenchmarkFigure>();
        var single = runs[0];
        figures.AddRange(Figures("", single.Report, single.Delivery, single.Memory, baseline, baselineIsSingleProcess: false));
        foreach (var run in runs.Skip(1))
        {
            figures.AddRange(Figures($"{run.Replicas} api + {run.Replicas} worker: ", run.Report, run.Delivery, run.Memory, single.Report.Calls, baselineIsSingleProcess: true));
        }

        figures.Add(new BenchmarkFigure($"load average at the end (1 / 5 / 15 min: {load})", double.Parse(load.Split(' ')[0], CultureInfo.InvariantCulture), ""));
        return figures;
    }

    /// <summary>More connections than PostgreSQL's default 100: four product processes keep a pool each, as on a real cluster.</summary>
    private static async Task AllowConnectionsAsync(EmbeddedPostgres cluster, CancellationToken cancellationToken)
    {
        await using (var connection = new NpgsqlConnection(cluster.SuperuserConnectionString()))
        {
            await connection.OpenAsync(cancellationToken);
            using var db = ProductData.On(connection);
            // SQL: a server setting; ALTER SYSTEM has no LINQ form.
            await db.ExecuteAsync("alter system set max_connections = 400", cancellationToken);
        }

        await cluster.RestartAsync(cancellationToken);
    }

    private static async Task<(IReadOnlyList<LoadTenant> Tenants, string IntakeDomain)> ProvisionAsync(
        BenchmarkContext context, LoadSettings settings, DatabaseConnectionStrings database, string dataDirectory, int runs, LoadObserver observer, CancellationToken cancellationToken)
    {
        context.Report($"provisioning {settings.Tenants} tenants through the import path (a product in this process, role all; not timed as load)");
        var clock = Stopwatch.StartNew();
        await using var server = await InvisibleServer.StartAsync(
            [
                $"--Server:DataDirectory={dataDirectory}", "--Server:HttpPort=0", "--Server:GrpcPort=0",
                $"--ConnectionStrings:Postgres={database.OwnerConnectionString}", $"--ConnectionStrings:PostgresApp={database.AppConnectionString}",
                "--Email:Intake:Enabled=false", "--Email:Intake:Imap:Enabled=false",
            ],
            configure: null, context.Logging, cancellationToken);
        var tenants = await LoadProvisioning.ProvisionAsync(server, settings, runs, context.WorkDirectory, context.Report, cancellationToken);
        context.Report($"imports stored in {clock.Elapsed.TotalSeconds:0} s; waiting for the worker to decide them");
        if (!await observer.WaitForOutboxDrainedAsync(0, TimeSpan.FromMinutes(20), cancellationToken))
        {
            throw new InvalidOperationException("The provisioned tenants' imports were not all decided within 20 minutes.");
        }

        context.Report($"provisioned and decided in {clock.Elapsed.TotalSeconds:0} s");
        return (tenants, server.Services.GetRequiredService<IntakeRecipients>().Domain);
    }

    private static async Task<(int Replicas, LoadReport Report, DeliveryCheck Delivery, MemoryTrace Memory)> RunLayoutAsync(
        BenchmarkContext context, LoadSettings settings, DatabaseConnectionStrings database, string dataDirectory, string logs, int replicas,
        IReadOnlyList<LoadTenant> tenants, string intakeDomain, int run, int runs, LoadObserver observer, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database.OwnerConnectionString,
            ["ConnectionStrings__PostgresApp"] = database.AppConnectionString,
            ["Email__Intake__Domain"] = intakeDomain,
            ["Email__Intake__MessagesPerMinutePerIp"] = "100000",
            ["Email__Intake__Imap__Enabled"] = "false",
            // The request-rate buckets stay in the path but far above what one bench key asks for (a key per tenant, shared by its clerks).
            ["RateLimits__CallerRequestsPerSecond"] = "1000000",
            ["RateLimits__CallerBurst"] = "1000000",
            ["RateLimits__TenantRequestsPerSecond"] = "1000000",
            ["RateLimits__TenantBurst"] = "1000000",
            ["RateLimits__WatchStreamsPerCaller"] = "1000",
        };
        var processes = new List<ProductProcess>();
        try
        {
            if (replicas == 1)
            {
                context.Report("starting the product: serve --role all");
                processes.Add(await ProductProcess.StartAsync("all", ServerRole.All, dataDirectory, logs, environment, cancellationToken));
            }
            else
            {
                context.Report($"starting {replicas} api and {replicas} worker processes");
                for (var i = 1; i <= replicas; i++)
                {
                    processes.Add(await ProductProcess.StartAsync($"api-{i}", ServerRole.Api, dataDirectory, logs, environment, cancellationToken));
                    processes.Add(await ProductProcess.StartAsync($"worker-{i}", ServerRole.Worker, dataDirectory, logs, environment, cancellationToken));
                }
            }

            var serving = processes.Where(process => process.Role != ServerRole.Worker).ToList();
            var target = new LoadTarget(serving.Select(process => process.Http).ToList(), serving.Select(process => process.Smtp!).ToList(), intakeDomain);
            var before = await observer.NewestPositionAsync(cancellationToken);
            using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var memory = new MemoryTrace(processes, settings.MemorySampleSeconds, settings.WarmupSeconds);
            var sampling = memory.RunAsync(stopSampling.Token);
            var waits = observer.SampleWaitsAsync(stopSampling.Token);
            var workload = new LoadWorkload(settings, target, observer, line => context.Report($"  {line}"));
            var report = await workload.RunAsync(tenants, run, runs, cancellationToken);
            await stopSampling.CancelAsync();
            await sampling;
            context.Report($"  RSS (MB) every {settings.MemorySampleSeconds} s: {memory.Describe()}");
            context.Report("  what active database sessions waited on (samples once a second, most frequent first):");
            foreach (var (wait, statement, samples) in (await waits).Take(6))
            {
                context.Report($"    {samples,5} × {wait} | {statement}");
            }


            await observer.WaitForOutboxDrainedAsync(before, TimeSpan.FromSeconds(60), cancellationToken);
            var delivery = await observer.DeliveriesAsync(before, report.EmailedInvoiceIds, cancellationToken);
            context.Report(string.Create(CultureInfo.InvariantCulture,
                $"  events {delivery.Events:N0} ({delivery.Pending} pending, {delivery.DeadLettered} dead-lettered); stored-file events {delivery.FilesImported:N0}, re-evaluations handled {delivery.ReevaluationsHandled:N0}; e-mailed invoices {delivery.EmailedInvoices}, engine decisions on them {delivery.EngineDecisionsOnEmailed}"));
            foreach (var call in report.Calls.Where(call => call.Errors > 0))
            {
                context.Report($"  {call.Call}: {call.Errors} errors, first: {call.FirstError}");
            }

            return (replicas, report, delivery, memory);
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    private static IEnumerable<BenchmarkFigure> Figures(
        string prefix, LoadReport report, DeliveryCheck delivery, MemoryTrace memory, IReadOnlyList<CallFigures> baseline, bool baselineIsSingleProcess)
    {
        var against = baselineIsSingleProcess ? "single process" : "query alone on PostgreSQL";
        foreach (var call in report.Calls)
        {
            var other = baseline.FirstOrDefault(candidate => candidate.Call == call.Call && candidate.Requests > 0);
            var label = $"{prefix}{call.Call}{(other is null ? "" : $" (baseline: {against})")}";
            yield return new BenchmarkFigure($"{label}: requests/s ({call.Requests:N0})", call.RequestsPerSecond, "req/s", other?.RequestsPerSecond);
            yield return new BenchmarkFigure($"{label}: p50", call.P50Ms, "ms", other?.P50Ms);
            yield return call.Interactive
                ? new BenchmarkFigure($"{label}: p95", call.P95Ms, "ms", other?.P95Ms, $"< {P95TargetMs:0} ms", call.Requests == 0 ? null : call.P95Ms < P95TargetMs)
                : new BenchmarkFigure($"{label}: p95", call.P95Ms, "ms", other?.P95Ms);
            yield return call.Interactive
                ? new BenchmarkFigure($"{label}: p99", call.P99Ms, "ms", other?.P99Ms, $"< {P99TargetMs:0} ms", call.Requests == 0 ? null : call.P99Ms < P99TargetMs)
                : new BenchmarkFigure($"{label}: p99", call.P99Ms, "ms", other?.P99Ms);
            yield return new BenchmarkFigure($"{label}: errors", call.Errors, "", baselineIsSingleProcess ? other?.Errors : null, "0", call.Errors == 0);
        }

        var arrivals = report.Arrivals;
        var seen = $"{arrivals.LatenciesMs.Count} of {arrivals.Sent} e-mails";
        yield return new BenchmarkFigure($"{prefix}e-mail (SMTP 250) → decision on Watch, p50 ({seen})", LoadRecorder.Percentile(arrivals.LatenciesMs, 0.5), "ms");
        yield return new BenchmarkFigure($"{prefix}e-mail (SMTP 250) → decision on Watch, p95", LoadRecorder.Percentile(arrivals.LatenciesMs, 0.95), "ms");
        var arrivalP99 = LoadRecorder.Percentile(arrivals.LatenciesMs, 0.99);
        yield return new BenchmarkFigure($"{prefix}e-mail (SMTP 250) → decision on Watch, p99", arrivalP99, "ms", null, $"< {ArrivalTargetMs:N0} ms",
            arrivals.Sent == 0 ? null : arrivalP99 < ArrivalTargetMs && arrivals.LatenciesMs.Count == arrivals.Sent);

        var watch = report.Watch;
        yield return new BenchmarkFigure(
            $"{prefix}Watch: commits not delivered, of {watch.Expected:N0} expected over {watch.Streams} streams ({string.Join(" + ", watch.StreamsPerReplica)} per api process)",
            watch.Missing, "", null, "0", watch.Missing == 0);
        yield return new BenchmarkFigure($"{prefix}events of the run not delivered at its end (of {delivery.Events:N0}; {delivery.DeadLettered} dead-lettered)", delivery.Pending + delivery.DeadLettered, "", null, "0", delivery.Pending + delivery.DeadLettered == 0);
        yield return new BenchmarkFigure($"{prefix}stored-file events handled by the re-evaluating worker (baseline: events)", delivery.ReevaluationsHandled, "", delivery.FilesImported, "once each", delivery.ReevaluationsHandled == delivery.FilesImported);
        yield return new BenchmarkFigure($"{prefix}engine decisions on e-mailed invoices (baseline: invoices)", delivery.EngineDecisionsOnEmailed, "", delivery.EmailedInvoices, "once each", delivery.EngineDecisionsOnEmailed == delivery.EmailedInvoices);

        foreach (var process in memory.Processes)
        {
            var (afterWarmup, end, peak) = memory.Summary(process);
            var growth = afterWarmup > 0 ? (end - afterWarmup) / afterWarmup : double.NaN;
            yield return new BenchmarkFigure($"{prefix}RSS of {process.Name}: after warm-up → end (peak {peak:0} MB)", end, "MB", afterWarmup, $"≤ {1 + FlatMemoryGrowth:0.00}× (flat)", afterWarmup > 0 ? growth <= FlatMemoryGrowth : null);
        }
    }

    private static async Task WriteReportFileAsync(
        LoadSettings settings, IReadOnlyList<(int Replicas, LoadReport Report, DeliveryCheck Delivery, MemoryTrace Memory)> runs, IReadOnlyList<CallFigures> baseline, CancellationToken cancellationToken)
    {
        if (settings.ReportFile is not { } path)
        {
            return;
        }

        var document = new
        {
            Runs = runs.Select(run => new { run.Replicas, run.Report.Calls, run.Report.Watch, Arrivals = new { run.Report.Arrivals.Sent, Decided = run.Report.Arrivals.LatenciesMs.Count }, run.Delivery }),
            Baseline = baseline,
        };
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, ReportJson), cancellationToken);
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "0 0 0";
        }
    }

    /// <summary>Each product process's resident set every few seconds while the load runs (warm-up included).</summary>
    private sealed class MemoryTrace(IReadOnlyList<ProductProcess> processes, int intervalSeconds, int warmupSeconds)
    {
        private readonly List<(double Seconds, double[] Megabytes)> _samples = [];

        public IReadOnlyList<ProductProcess> Processes => processes;

        public async Task RunAsync(CancellationToken stop)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                while (true)
                {
                    _samples.Add((clock.Elapsed.TotalSeconds, processes.Select(process => process.ResidentBytes() / 1024.0 / 1024.0).ToArray()));
                    await Task.Delay(TimeSpan.FromSeconds(intervalSeconds), stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _samples.Add((clock.Elapsed.TotalSeconds, processes.Select(process => process.ResidentBytes() / 1024.0 / 1024.0).ToArray()));
            }
        }

        /// <summary>The first sample at or after the warm-up, the last one, and the largest.</summary>
        public (double AfterWarmup, double End, double Peak) Summary(ProductProcess process)
        {
            var index = processes.ToList().IndexOf(process);
            var values = _samples.Select(sample => (sample.Seconds, Value: sample.Megabytes[index])).Where(sample => sample.Value > 0).ToList();
            if (values.Count == 0)
            {
                return (0, 0, 0);
            }

            var afterWarmup = values.FirstOrDefault(sample => sample.Seconds >= warmupSeconds);
            return (afterWarmup == default ? values[0].Value : afterWarmup.Value, values[^1].Value, values.Max(sample => sample.Value));
        }

        public string Describe() => string.Join("; ", processes.Select((process, index) =>
            $"{process.Name}: {string.Join(", ", _samples.Select(sample => sample.Megabytes[index].ToString("0", CultureInfo.InvariantCulture)))}"));
    }
}
