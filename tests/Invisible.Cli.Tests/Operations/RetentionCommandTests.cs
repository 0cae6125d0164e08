using Invisible.Testing;

namespace Invisible.Cli.Tests.Operations;

/// <summary><c>invisible retention</c> as an operator runs it: a separate process on a data directory.</summary>
public sealed class RetentionCommandTests : IDisposable
{
    private readonly TemporaryDirectory _dataDirectory = new("invisible-retention-cli-");

    [Fact]
    public async Task A_policy_shorter_than_the_defaults_is_refused_without_force_and_the_dry_run_prints_the_tables()
    {
        var created = await CliProcess.RunAsync("tenant", "create", "alpha", "--data-dir", _dataDirectory.Path);
        Assert.True(created.ExitCode == 0, created.Output + created.Error);

        var refused = await CliProcess.RunAsync("retention", "policy", "--tenant", "alpha", "--financial-years", "5", "--data-dir", _dataDirectory.Path);
        var dryRun = await CliProcess.RunAsync("retention", "run", "--dry-run", "--data-dir", _dataDirectory.Path);

        Assert.True(
            refused.ExitCode == 1 && refused.Error.Contains("--force", StringComparison.Ordinal)
            && dryRun.ExitCode == 0 && dryRun.Output.Contains("Dry run", StringComparison.Ordinal) && dryRun.Output.Contains("audit_log", StringComparison.Ordinal),
            $"policy: {refused.ExitCode} {refused.Error}{Environment.NewLine}dry run: {dryRun.ExitCode} {dryRun.Output}{dryRun.Error}");
    }

    public void Dispose() => _dataDirectory.Dispose();
}
