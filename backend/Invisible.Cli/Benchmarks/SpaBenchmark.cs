using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Invisible.Server.Hosting;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// The web app as users get it: starts <c>invisible up</c> with its demo tenant on a fresh data directory (building
/// nothing: the SPA must already be built in <c>frontend/dist</c>), then runs <c>tests/spa-bench/bench.mjs</c>, which
/// signs in through the UI and runs Lighthouse (desktop preset, cold cache) in the system Chromium on the dashboard and
/// invoices pages, and measures the initial JavaScript as served, gzipped. Baseline, measured in the same run: the
/// signed-out sign-in page (the shell with no data), whose scores show what the data screens cost.
/// </summary>
internal sealed class SpaBenchmark : IBenchmark
{
    private const int ScoreTarget = 90;
    private const double InitialJavaScriptGzipTargetKb = 250;

    /// <summary>Lighthouse's (and Core Web Vitals') threshold of a good cumulative layout shift.</summary>
    private const double LayoutShiftTarget = 0.1;

    public string Name => "spa";

    public string Description => "Lighthouse performance/accessibility, LCP and CLS of the signed-in dashboard and invoices pages, initial JS gzip size";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        var repository = FindRepository();
        var benchFolder = Path.Combine(repository, "tests", "spa-bench");
        Require(File.Exists(Path.Combine(repository, "frontend", "dist", "invisible", "browser", "index.html")),
            "The web app is not built: run `scripts/bootstrap.sh product` (or `cd frontend && npm run build`) first.");
        Require(Directory.Exists(Path.Combine(benchFolder, "node_modules", "lighthouse")),
            "tests/spa-bench has no node_modules: run `scripts/bootstrap.sh test` (or `cd tests/spa-bench && npm ci`) first.");
        var chrome = Environment.GetEnvironmentVariable("CHROME_PATH") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        Require(File.Exists(chrome), $"No Chromium at {chrome}: `apt-get install chromium` or set CHROME_PATH.");

        var dataDirectory = Path.Combine(context.WorkDirectory, "product");
        context.Report("starting invisible up with the demo tenant");
        using var product = await StartProductAsync(dataDirectory, cancellationToken);
        try
        {
            context.Report($"product at {product.Url}; running Lighthouse (tests/spa-bench/bench.mjs)");
            var output = Path.Combine(benchFolder, "output");
            var json = await RunNodeAsync(benchFolder, chrome, ["bench.mjs", "--url", product.Url, "--data-dir", dataDirectory, "--out", output], context, cancellationToken);
            context.Report($"Lighthouse reports in {output}");
            return Figures(json);
        }
        finally
        {
            await product.StopAsync();
        }
    }

    private static List<BenchmarkFigure> Figures(JsonElement result)
    {
        var figures = new List<BenchmarkFigure>();
        var pages = result.GetProperty("pages").EnumerateArray().ToList();
        var baseline = pages[0];
        foreach (var page in pages.Skip(1))
        {
            var name = page.GetProperty("page").GetString();
            var performance = page.GetProperty("performance").GetDouble();
            var accessibility = page.GetProperty("accessibility").GetDouble();
            figures.Add(new BenchmarkFigure($"{name}: Lighthouse performance (desktop, cold cache)", performance, "score",
                baseline.GetProperty("performance").GetDouble(), $"≥ {ScoreTarget}", performance >= ScoreTarget));
            figures.Add(new BenchmarkFigure($"{name}: Lighthouse accessibility", accessibility, "score",
                baseline.GetProperty("accessibility").GetDouble(), $"≥ {ScoreTarget}", accessibility >= ScoreTarget));
            figures.Add(new BenchmarkFigure($"{name}: largest contentful paint", page.GetProperty("largestContentfulPaintMs").GetDouble(), "ms",
                baseline.GetProperty("largestContentfulPaintMs").GetDouble()));
            var layoutShift = page.GetProperty("cumulativeLayoutShift").GetDouble();
            figures.Add(new BenchmarkFigure($"{name}: cumulative layout shift", layoutShift, "",
                baseline.GetProperty("cumulativeLayoutShift").GetDouble(), $"≤ {LayoutShiftTarget.ToString(CultureInfo.InvariantCulture)}", layoutShift <= LayoutShiftTarget));
        }

        var javaScript = result.GetProperty("initialJavaScript");
        var gzipKb = javaScript.GetProperty("gzipBytes").GetDouble() / 1000;
        figures.Add(new BenchmarkFigure("initial JS, gzip (level 9) as served", Math.Round(gzipKb, 1), "kB",
            Math.Round(javaScript.GetProperty("rawBytes").GetDouble() / 1000, 1), $"≤ {InitialJavaScriptGzipTargetKb.ToString(CultureInfo.InvariantCulture)} kB (baseline: raw)", gzipKb <= InitialJavaScriptGzipTargetKb));
        return figures;
    }

    private static async Task<JsonElement> RunNodeAsync(string folder, string chrome, IReadOnlyList<string> arguments, BenchmarkContext context, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CHROME_PATH"] = chrome;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        process.ErrorDataReceived += (_, line) =>
        {
            if (!string.IsNullOrWhiteSpace(line.Data))
            {
                context.Report(line.Data.Trim());
            }
        };
        process.BeginErrorReadLine();
        var stdout = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (process.ExitCode != 0 || last is null)
        {
            throw new InvalidOperationException($"tests/spa-bench/bench.mjs failed (exit code {process.ExitCode}); its output is above.");
        }

        return JsonDocument.Parse(last).RootElement.Clone();
    }

    private static async Task<RunningProduct> StartProductAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(dataDirectory);
        var start = new ProcessStartInfo("dotnet")
        {
            // With the demo tenant (no --no-demo): the bench signs in as its administrator.
            ArgumentList = { typeof(SpaBenchmark).Assembly.Location, "up", "--data-dir", dataDirectory, "--port", "0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start `invisible up`");
        // The last lines of its output say why, should it stop before it is ready.
        var lastLines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        DataReceivedEventHandler keep = (sender, line) =>
        {
            if (line.Data is { Length: > 0 } text && !text.StartsWith("   at ", StringComparison.Ordinal))
            {
                lastLines.Enqueue(text);
                while (lastLines.Count > 15 && lastLines.TryDequeue(out _))
                {
                }
            }
        };
        process.OutputDataReceived += keep;
        process.ErrorDataReceived += keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var product = new RunningProduct(process);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromMinutes(3));
            while (true)
            {
                deadline.Token.ThrowIfCancellationRequested();
                if (process.HasExited)
                {
                    throw new InvalidOperationException(
                        $"`invisible up` exited with code {process.ExitCode} before it was ready:{Environment.NewLine}{string.Join(Environment.NewLine, lastLines)}");
                }

                var endpoints = await ServerEndpoints.ReadAsync(dataDirectory, deadline.Token);
                if (endpoints is not null && await IsReadyAsync(http, endpoints.Http, deadline.Token))
                {
                    product.Url = endpoints.Http.TrimEnd('/');
                    return product;
                }

                await Task.Delay(100, deadline.Token);
            }
        }
        catch
        {
            await product.StopAsync();
            product.Dispose();
            throw;
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
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The repository holding this build (walking up from the executable), where the SPA and the bench live.</summary>
    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "tests", "spa-bench", "package.json")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository (tests/spa-bench/package.json) above " + AppContext.BaseDirectory);
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    private sealed class RunningProduct(Process process) : IDisposable
    {
        public string Url { get; set; } = "";

        public async Task StopAsync()
        {
            if (process.HasExited)
            {
                return;
            }

            // SIGTERM lets the product stop its embedded PostgreSQL cleanly.
            using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
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

        public void Dispose() => process.Dispose();
    }
}
