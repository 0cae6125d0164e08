using System.Diagnostics;
using Invisible.Data.Embedded;
using Invisible.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// Time from launching <c>invisible up</c> to <c>/readyz</c> answering 200: once with a first-time <c>initdb</c>,
/// then with the existing cluster. Baselines, measured in the same run on the same machine: the bare cluster doing
/// the same (initdb + start, and start alone) through the supervisor, without the product around it.
/// </summary>
internal sealed class StartupBenchmark : IBenchmark
{
    private const int WarmRuns = 3;

    public string Name => "startup";

    public string Description => "process start to /readyz OK (first run with initdb, then with the existing cluster)";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        var bareDirectory = Path.Combine(context.WorkDirectory, "bare");
        context.Report("baseline: bare cluster, initdb + start");
        var bareFirst = await TimeBareClusterAsync(bareDirectory, cancellationToken);
        var bareWarm = new List<double>();
        for (var run = 0; run < WarmRuns; run++)
        {
            bareWarm.Add(await TimeBareClusterAsync(bareDirectory, cancellationToken));
        }

        var productDirectory = Path.Combine(context.WorkDirectory, "product");
        context.Report("product: first start (initdb, migrations)");
        var first = await TimeProductAsync(productDirectory, cancellationToken);
        var warm = new List<double>();
        for (var run = 0; run < WarmRuns; run++)
        {
            context.Report($"product: start with existing cluster ({run + 1}/{WarmRuns})");
            warm.Add(await TimeProductAsync(productDirectory, cancellationToken));
        }

        var warmMedian = Median(warm);
        return
        [
            new BenchmarkFigure("ready, existing cluster (median of 3)", warmMedian, "ms", Median(bareWarm), "< 3000 ms", warmMedian < 3000),
            new BenchmarkFigure("ready, first run with initdb", first, "ms", bareFirst),
        ];
    }

    private static async Task<double> TimeBareClusterAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = dataDirectory }, NullLogger.Instance, cancellationToken);
        var elapsed = clock.Elapsed.TotalMilliseconds;
        await cluster.StopAsync(cancellationToken);
        return elapsed;
    }

    private static async Task<double> TimeProductAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(StartupBenchmark).Assembly.Location, "up", "--data-dir", dataDirectory, "--port", "0", "--no-demo" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start `invisible up`");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromMinutes(2));
            while (true)
            {
                deadline.Token.ThrowIfCancellationRequested();
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"`invisible up` exited with code {process.ExitCode} before it was ready");
                }

                var endpoints = await ServerEndpoints.ReadAsync(dataDirectory, deadline.Token);
                if (endpoints is not null && await IsReadyAsync(http, endpoints.Http, deadline.Token))
                {
                    return clock.Elapsed.TotalMilliseconds;
                }

                await Task.Delay(10, deadline.Token);
            }
        }
        finally
        {
            await StopAsync(process);
        }
    }

    private static async Task<bool> IsReadyAsync(HttpClient http, string baseAddress, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(new Uri(baseAddress), "/readyz"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task StopAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
