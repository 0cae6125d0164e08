namespace Invisible.Cli.Tests;

/// <summary>Verbs that cannot run (no database, an unwritable data directory): one line naming the cause and what to do, exit code 4.</summary>
public sealed class CommandFailureTests : IDisposable
{
    private const string Password = "not-to-be-shown-7f3a";

    private readonly Invisible.Testing.TemporaryDirectory _directory = new("invisible-cli-failures-");

    // Port 1 on loopback: nothing listens, the connection is refused at once.
    private static Dictionary<string, string> DeadDatabase => new()
    {
        ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port=1;Username=invisible;Password={Password};Timeout=5",
        ["ConnectionStrings__PostgresApp"] = $"Host=127.0.0.1;Port=1;Username=invisible_app;Password={Password};Timeout=5",
    };

    [Fact]
    public async Task A_database_that_is_not_there_is_one_line_with_the_cause_and_what_to_do_and_exit_code_4()
    {
        var result = await CliProcess.RunAsync(DeadDatabase, "reconcile", "--data-dir", _directory.Path);

        Assert.Equal(4, result.ExitCode);
        Assert.Equal(string.Empty, result.Output);
        var line = Assert.Single(Lines(result.Error));
        Assert.StartsWith("invisible reconcile: could not run: cannot reach the database (", line, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", line, StringComparison.Ordinal);
        Assert.Contains("Check that PostgreSQL is running", line, StringComparison.Ordinal);
        Assert.EndsWith("Run with --verbose for the stack trace.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_verbose_the_stack_trace_comes_before_the_same_line_and_still_no_password()
    {
        var result = await CliProcess.RunAsync(DeadDatabase, "tenant", "create", "acme", "--data-dir", _directory.Path, "--verbose");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("   at Invisible.Data.Migrations.DatabaseMigrator", result.Error, StringComparison.Ordinal);
        Assert.StartsWith("invisible tenant create: could not run: cannot reach the database (", Lines(result.Error)[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_directory_that_cannot_be_created_is_one_line_naming_the_path_and_exit_code_4()
    {
        // Under a regular file: no directory can be created there, not even by root (CI runs tests as root).
        var file = Path.Combine(_directory.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a directory");
        var dataDirectory = Path.Combine(file, "data");

        var result = await CliProcess.RunAsync("import", "vendors", file, "--data-dir", dataDirectory);

        Assert.Equal(4, result.ExitCode);
        var line = Assert.Single(Lines(result.Error));
        Assert.StartsWith("invisible import vendors: could not run: ", line, StringComparison.Ordinal);
        Assert.Contains(file, line, StringComparison.Ordinal);
        Assert.Contains("--data-dir", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void Dispose() => _directory.Dispose();
}
