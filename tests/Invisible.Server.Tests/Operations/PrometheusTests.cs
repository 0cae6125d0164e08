using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Invisible.Testing;

namespace Invisible.Server.Tests.Operations;

/// <summary>
/// The alert rules load in the real <c>promtool</c>, and a real Prometheus started here scrapes the product's <c>/metrics</c>
/// and answers one of our series through its HTTP API (Debian's <c>prometheus</c> package; scripts/bootstrap.sh test installs it).
/// </summary>
public sealed class PrometheusTests(RunningServer running) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task Promtool_accepts_the_alert_rules_and_the_scrape_configuration()
    {
        var prometheusFolder = Path.Combine(RepositoryRoot(), "deploy", "prometheus");

        var result = await RunAsync("promtool", "check", "config", Path.Combine(prometheusFolder, "prometheus.yml"));

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task A_real_prometheus_scrapes_metrics_and_its_api_returns_the_backup_age_series()
    {
        using var storage = new TemporaryDirectory("invisible-prometheus-");
        var target = new Uri(running.Server.Endpoints.Http);
        var config = Path.Combine(storage.Path, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: api
                static_configs:
                  - targets: ["{target.Host}:{target.Port}"]
            """);
        var port = FreeLoopbackPort();
        using var prometheus = Process.Start(new ProcessStartInfo(
            "prometheus",
            [$"--config.file={config}", $"--storage.tsdb.path={Path.Combine(storage.Path, "data")}", $"--web.listen-address=127.0.0.1:{port}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        _ = prometheus.StandardError.ReadToEndAsync();
        _ = prometheus.StandardOutput.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var series = await QueryUntilAnswerAsync(http, "invisible_backup_age_seconds", TimeSpan.FromSeconds(90));

            Assert.Equal("api", series);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
        }
    }

    /// <summary>The job label of the query's first series once Prometheus has one (it needs a scrape or two first).</summary>
    private static async Task<string?> QueryUntilAnswerAsync(HttpClient http, string query, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var document = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}"));
                var results = document.RootElement.GetProperty("data").GetProperty("result");
                if (results.GetArrayLength() > 0)
                {
                    return results[0].GetProperty("metric").GetProperty("job").GetString();
                }
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        return null;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (Directory.Exists(Path.Combine(directory.FullName, "deploy", "prometheus")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("deploy/prometheus not found above " + AppContext.BaseDirectory);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
