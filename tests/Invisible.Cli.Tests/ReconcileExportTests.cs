using Invisible.Testing;

namespace Invisible.Cli.Tests;

public sealed class ReconcileExportTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("invisible-cli-reconcile-");

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    [SpecSamplesFact]
    public async Task Importing_the_spec_samples_then_reconcile_and_export_produce_exactly_the_expected_results_row_by_row()
    {
        var samples = SpecSamples.Directory!;
        await RunAsync("tenant", "create", "acme");
        foreach (var (kind, file) in new[]
                 {
                     ("vendors", "vendors.csv"), ("purchase-orders", "purchase_orders.csv"), ("receipts", "receipts.csv"), ("invoices", "invoices.csv"),
                 })
        {
            await RunAsync("import", kind, Path.Combine(samples, file), "--tenant", "acme");
        }

        var reconciled = await RunAsync("reconcile", "--tenant", "acme");
        var resultsFile = Path.Combine(_directory.Path, "results.csv");
        await RunAsync("export", "results", "--out", resultsFile, "--tenant", "acme");

        var expected = await File.ReadAllLinesAsync(Path.Combine(samples, "expected_results.csv"));
        var actual = await File.ReadAllLinesAsync(resultsFile);
        var mismatches = expected.Zip(actual).Where(pair => pair.First != pair.Second).Select(pair => $"expected {pair.First}\n  actual {pair.Second}").ToList();
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
        Assert.Equal(expected.Length, actual.Length);
        Assert.Matches(@"Reconciled \d+ invoices of acme", reconciled.Output);
        Assert.Matches(@"│ exception +│ [1-9]", reconciled.Output);
    }

    [Theory]
    [InlineData("reconcile", "--tenant")]
    [InlineData("export", "results")]
    [InlineData("export results", "--out")]
    public async Task Reconcile_and_export_explain_themselves_with_help(string verb, string mentioned)
    {
        var result = await CliProcess.RunAsync([.. verb.Split(' '), "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(mentioned, result.Output, StringComparison.Ordinal);
        Assert.Contains("--data-dir", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_and_export_refuse_an_unknown_tenant_with_exit_code_2_and_export_requires_out()
    {
        var reconcile = await CliProcess.RunAsync("reconcile", "--tenant", "nobody", "--data-dir", DataDirectory);
        var export = await CliProcess.RunAsync("export", "results", "--out", Path.Combine(_directory.Path, "r.csv"), "--tenant", "nobody", "--data-dir", DataDirectory);
        var withoutOut = await CliProcess.RunAsync("export", "results", "--data-dir", DataDirectory);

        Assert.Equal((2, 2), (reconcile.ExitCode, export.ExitCode));
        Assert.Contains("No tenant 'nobody'", reconcile.Error, StringComparison.Ordinal);
        Assert.Contains("No tenant 'nobody'", export.Error, StringComparison.Ordinal);
        Assert.NotEqual(0, withoutOut.ExitCode);
        Assert.Contains("--out", withoutOut.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory.Path, "r.csv")));
    }

    private async Task<CliProcess.Result> RunAsync(params string[] arguments)
    {
        var result = await CliProcess.RunAsync([.. arguments, "--data-dir", DataDirectory]);
        Assert.True(result.ExitCode == 0, $"invisible {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.Output}\n{result.Error}");
        return result;
    }

    public void Dispose() => _directory.Dispose();
}
