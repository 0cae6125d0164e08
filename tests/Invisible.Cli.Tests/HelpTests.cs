namespace Invisible.Cli.Tests;

public sealed class HelpTests
{
    [Theory]
    [InlineData("up", "--port")]
    [InlineData("tenant", "create")]
    [InlineData("bench", "startup")]
    [InlineData("bench", "spa")]
    public async Task Every_verb_explains_itself_with_help(string verb, string mentioned)
    {
        var result = await CliProcess.RunAsync(verb, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(mentioned, result.Output, StringComparison.Ordinal);
        Assert.Contains("--data-dir", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tenant", "create")]
    [InlineData("up")]
    public async Task Every_verb_offers_verbose_and_names_the_log_file_otherwise_used(params string[] verb)
    {
        var result = await CliProcess.RunAsync([.. verb, "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--verbose", result.Output, StringComparison.Ordinal);
        Assert.Contains("logs/invisible.log", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_benchmark_is_refused_with_the_list_of_known_ones()
    {
        var result = await CliProcess.RunAsync("bench", "no-such-benchmark");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Available: startup", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_verb_fails_with_a_message()
    {
        var result = await CliProcess.RunAsync("frobnicate");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("frobnicate", result.Error + result.Output, StringComparison.Ordinal);
    }
}
