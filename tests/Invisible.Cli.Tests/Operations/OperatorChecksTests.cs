using Invisible.Testing;

namespace Invisible.Cli.Tests.Operations;

/// <summary><c>invisible health</c> and <c>invisible security check</c> as an operator (or a monitoring plugin) runs them.</summary>
public sealed class OperatorChecksTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("invisible-operator-checks-");

    // A data directory the product creates itself (0700, or 0711 as root): the temporary folder around it is the test's, 0755.
    private string DataDirectory => Path.Combine(_directory.Path, "data");

    [Fact]
    public async Task Health_is_critical_with_exit_code_2_while_the_database_is_not_running()
    {
        await RunAsync("tenant", "create", "alpha", "--data-dir", DataDirectory);

        var health = await CliProcess.RunAsync("health", "--data-dir", DataDirectory);

        Assert.True(health.ExitCode == 2, health.Output + health.Error);
        Assert.Contains("CRIT database: the embedded PostgreSQL cluster", health.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Security_check_passes_on_a_fresh_installation_and_names_a_secrets_file_others_can_read()
    {
        await RunAsync("tenant", "create", "alpha", "--data-dir", DataDirectory);
        var fresh = await CliProcess.RunAsync("security", "check", "--data-dir", DataDirectory);
        Assert.True(fresh.ExitCode == 0, fresh.Output + fresh.Error);

        var secrets = Path.Combine(DataDirectory, "database-secrets.json");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(secrets, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        var exposed = await CliProcess.RunAsync("security", "check", "--data-dir", DataDirectory);

        Assert.True(exposed.ExitCode == 5, exposed.Output + exposed.Error);
        Assert.Contains($"{secrets} is 0644; must be 0600", exposed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_check_flags_a_misspelt_backup_setting_with_the_nearest_known_name()
    {
        var result = await CliProcess.RunAsync(new Dictionary<string, string> { ["Backup__RepositoryPth"] = "/srv/backups" }, "config", "check");

        Assert.True(result.ExitCode == 5, result.Output + result.Error);
        Assert.Contains("Backup:RepositoryPth is not a setting of Backup (a typo? nearest: Backup:RepositoryPath)", result.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();

    private static async Task RunAsync(params string[] arguments)
    {
        var result = await CliProcess.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"invisible {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Error}{result.Output}");
    }
}
