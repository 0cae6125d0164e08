using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Invisible.Cli.Tests;

public sealed partial class TenantCommandTests : IDisposable
{
    private readonly Invisible.Testing.TemporaryDirectory _directory = new("invisible-cli-tenant-");

    private string DataDirectory => _directory.Path;

    private string LogFile => Path.Combine(DataDirectory, "logs", "invisible.log");

    [Fact]
    public async Task Tenant_create_prints_the_administrators_login_and_refuses_a_taken_slug()
    {
        var created = await CliProcess.RunAsync("tenant", "create", "acme-gmbh", "--currency", "EUR", "--data-dir", DataDirectory);

        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("Tenant acme-gmbh created.", created.Output, StringComparison.Ordinal);
        Assert.Matches(@"Administrator: admin@acme-gmbh\.invisible\.local  password: [A-Za-z0-9]{20} ", created.Output);

        var again = await CliProcess.RunAsync("tenant", "create", "acme-gmbh", "--data-dir", DataDirectory);

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("acme-gmbh", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tenant_create_names_the_rule_an_invalid_slug_breaks()
    {
        var result = await CliProcess.RunAsync("tenant", "create", "Not A Slug", "--data-dir", DataDirectory);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("lower-case letters, digits and hyphens", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tenant_create_on_a_fresh_data_directory_keeps_the_cluster_start_in_the_log_file_and_verbose_shows_it_on_the_terminal()
    {
        const string clusterStarted = "PostgreSQL started for";

        var quiet = await CliProcess.RunAsync("tenant", "create", "quiet-ltd", "--data-dir", DataDirectory);

        Assert.True(quiet.ExitCode == 0, quiet.Output + quiet.Error);
        Assert.Contains("Tenant quiet-ltd created.", quiet.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(clusterStarted, quiet.Output + quiet.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(" Information ", quiet.Output + quiet.Error, StringComparison.Ordinal);
        var logged = await File.ReadAllLinesAsync(LogFile);
        Assert.Contains(logged, line => line.Contains("Initialising a new PostgreSQL cluster", StringComparison.Ordinal));
        Assert.Contains(logged, line => line.Contains(clusterStarted, StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z Information ", logged[0]);

        var verbose = await CliProcess.RunAsync("tenant", "create", "verbose-ltd", "--data-dir", DataDirectory, "--verbose");

        Assert.True(verbose.ExitCode == 0, verbose.Output + verbose.Error);
        Assert.Contains("Tenant verbose-ltd created.", verbose.Output, StringComparison.Ordinal);
        Assert.Contains(clusterStarted, verbose.Error, StringComparison.Ordinal);
        Assert.Contains("stopped", verbose.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await File.ReadAllLinesAsync(LogFile)).Count(line => line.Contains(clusterStarted, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_log_file_keeps_a_cluster_start_with_its_time_level_and_category_and_a_quiet_verb_still_shows_a_warning()
    {
        var first = await CliProcess.RunAsync("tenant", "create", "first-ltd", "--data-dir", DataDirectory);
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        var start = ClusterStart().Match(Assert.Single(await File.ReadAllLinesAsync(LogFile), line => ClusterStart().IsMatch(line)));
        var startedAt = DateTimeOffset.Parse(start.Groups["time"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(startedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);

        // A postmaster.pid naming a process that is gone, as a crash leaves it: the cluster warns that it removes it.
        using (var exited = Process.Start("true")!)
        {
            await exited.WaitForExitAsync();
            await File.WriteAllTextAsync(
                Path.Combine(start.Groups["cluster"].Value, "postmaster.pid"),
                $"{exited.Id}\n{start.Groups["cluster"].Value}\n0\n5432\n");
        }

        var second = await CliProcess.RunAsync("tenant", "create", "second-ltd", "--data-dir", DataDirectory);

        Assert.True(second.ExitCode == 0, second.Output + second.Error);
        Assert.Contains("Tenant second-ltd created.", second.Output, StringComparison.Ordinal);
        Assert.Matches(@" Warning Invisible\.Data\.Embedded\.EmbeddedPostgres: Removing stale .*postmaster\.pid", second.Error);
        Assert.DoesNotContain(" Information ", second.Error, StringComparison.Ordinal);
        Assert.Contains(await File.ReadAllLinesAsync(LogFile), line => line.Contains(" Warning Invisible.Data.Embedded.EmbeddedPostgres: Removing stale ", StringComparison.Ordinal));
    }

    public void Dispose() => _directory.Dispose();

    [GeneratedRegex(@"^(?<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) Information Invisible\.Data\.Embedded\.EmbeddedPostgres: PostgreSQL started for (?<cluster>\S+) on 127\.0\.0\.1:\d+$")]
    private static partial Regex ClusterStart();
}
