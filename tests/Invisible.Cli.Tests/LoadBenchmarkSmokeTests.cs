using System.Text.Json;

namespace Invisible.Cli.Tests;

/// <summary>
/// <c>bench load</c>'s workload driver on two tiny tenants for a few seconds, so that it cannot rot: the cluster, the
/// provisioning, the product process, the simulated clerks, importers and e-mails all run, and the report written for
/// machines lists every call type without a failure. No figure is judged here (timings belong to the benchmark run).
/// </summary>
public sealed class LoadBenchmarkSmokeTests
{
    private static readonly string[] CallTypes =
    [
        "ListInvoices (filtered page)", "GetInvoice (3-way view)", "ListExceptions (queue page)", "GetDashboard", "ApproveException",
        "ListRematchCandidates", "RematchException", "Watch (stream open)", "Import file (upload → stored)", "E-mail (SMTP, to 250)",
    ];

    // Every clerk finishes the round it is in at the stop, so these are made whatever the machine's speed.
    private static readonly string[] CallsEveryRoundMakes = ["ListInvoices (filtered page)", "ListExceptions (queue page)", "GetDashboard"];

    [Fact]
    public async Task Bench_load_on_two_tiny_tenants_reports_every_call_type_without_an_error()
    {
        var reportFile = Path.Combine(Path.GetTempPath(), $"invisible-bench-load-{Guid.NewGuid():N}.json");
        var environment = new Dictionary<string, string>
        {
            ["INVISIBLE_BENCH_LOAD_TENANTS"] = "2",
            ["INVISIBLE_BENCH_LOAD_INVOICES"] = "10",
            ["INVISIBLE_BENCH_LOAD_USERS"] = "2",
            ["INVISIBLE_BENCH_LOAD_SECONDS"] = "6",
            ["INVISIBLE_BENCH_LOAD_WARMUP_SECONDS"] = "2",
            ["INVISIBLE_BENCH_LOAD_THINK_MS"] = "50",
            ["INVISIBLE_BENCH_LOAD_IMPORT_INTERVAL_SECONDS"] = "2",
            ["INVISIBLE_BENCH_LOAD_INVOICES_PER_FILE"] = "3",
            ["INVISIBLE_BENCH_LOAD_EMAILS_PER_SECOND"] = "1",
            ["INVISIBLE_BENCH_LOAD_MEMORY_SAMPLE_SECONDS"] = "2",
            ["INVISIBLE_BENCH_LOAD_REPORT"] = reportFile,
        };
        try
        {
            var result = await CliProcess.RunAsync(TimeSpan.FromMinutes(10), environment, "bench", "load");

            var problems = new List<string>();
            if (!File.Exists(reportFile))
            {
                problems.Add($"no report was written (exit {result.ExitCode}):\n{result.Output}{result.Error}");
            }
            else
            {
                using var report = JsonDocument.Parse(await File.ReadAllTextAsync(reportFile));
                var run = report.RootElement.GetProperty("Runs")[0];
                var calls = run.GetProperty("Calls").EnumerateArray().ToDictionary(call => call.GetProperty("Call").GetString()!, call => call);
                foreach (var callType in CallTypes)
                {
                    if (!calls.TryGetValue(callType, out var call))
                    {
                        problems.Add($"{callType}: missing from the report");
                    }
                    else if (call.GetProperty("Errors").GetInt32() is var errors and > 0)
                    {
                        problems.Add($"{callType}: {errors} errors, first: {call.GetProperty("FirstError").GetString()}");
                    }
                }

                problems.AddRange(CallsEveryRoundMakes
                    .Where(callType => calls.TryGetValue(callType, out var call) && call.GetProperty("Attempts").GetInt32() == 0)
                    .Select(callType => $"{callType}: no call was made"));
                if (run.GetProperty("Watch").GetProperty("Missing").GetInt64() is var missing and > 0)
                {
                    problems.Add($"Watch streams missed {missing} commits");
                }
            }

            Assert.True(problems.Count == 0, string.Join('\n', problems));
        }
        finally
        {
            File.Delete(reportFile);
        }
    }
}
