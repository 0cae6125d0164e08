namespace Invisible.Cli.Tests;

public sealed class TenantCommandTests : IDisposable
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
        Assert.DoesNotContain(" info: ", quiet.Output + quiet.Error, StringComparison.Ordinal);
        var logged = await File.ReadAllLinesAsync(LogFile);
        Assert.Contains(logged, line => line.Contains("Initialising a new PostgreSQL cluster", StringComparison.Ordinal));
        Assert.Contains(logged, line => line.Contains(clusterStarted, StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} info: ", logged[0]);

        var verbose = await CliProcess.RunAsync("tenant", "create", "verbose-ltd", "--data-dir", DataDirectory, "--verbose");

        Assert.True(verbose.ExitCode == 0, verbose.Output + verbose.Error);
        Assert.Contains("Tenant verbose-ltd created.", verbose.Output, StringComparison.Ordinal);
        Assert.Contains(clusterStarted, verbose.Error, StringComparison.Ordinal);
        Assert.Contains("stopped", verbose.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await File.ReadAllLinesAsync(LogFile)).Count(line => line.Contains(clusterStarted, StringComparison.Ordinal)));
    }

    public void Dispose() => _directory.Dispose();
}
