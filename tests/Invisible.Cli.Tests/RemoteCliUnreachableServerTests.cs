namespace Invisible.Cli.Tests;

/// <summary>Remote mode against an address where nothing listens: no server of its own, unlike <see cref="RemoteCliTests"/>.</summary>
public sealed class RemoteCliUnreachableServerTests : IDisposable
{
    private readonly Invisible.Testing.TemporaryDirectory _directory = new("invisible-cli-unreachable-");

    private string UnusedDataDirectory => Path.Combine(_directory.Path, "no-local-data");

    [Fact]
    public async Task An_unreachable_server_is_one_line_naming_the_address_without_a_stack_trace_and_exit_code_3()
    {
        var nobodyThere = await CliProcess.RunAsync(
            "reconcile", "--server", "http://127.0.0.1:1", "--api-key", "inv_unused-key", "--data-dir", UnusedDataDirectory);

        Assert.Equal(3, nobodyThere.ExitCode);
        Assert.Equal(string.Empty, nobodyThere.Output);
        var line = Assert.Single(nobodyThere.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("Cannot reach the server at http://127.0.0.1:1/ (Unavailable: ", line, StringComparison.Ordinal);
        Assert.Contains("INVISIBLE_SERVER", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
        Assert.DoesNotContain("inv_unused-key", nobodyThere.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(UnusedDataDirectory));
    }

    public void Dispose() => _directory.Dispose();
}
