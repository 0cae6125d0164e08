namespace Invisible.Cli.Tests;

/// <summary>
/// <c>bench intake</c> end to end on a handful of messages: the product starts, the e-mails are taken in over SMTP and every
/// invoice is seen decided on the Watch stream. No figure is judged here (timings belong to the benchmark run).
/// </summary>
public sealed class IntakeBenchmarkSmokeTests
{
    [Fact]
    public async Task Bench_intake_with_three_messages_sees_each_invoice_decided_and_prints_its_rows()
    {
        var result = await CliProcess.RunAsync("bench", "intake", "--messages", "3");

        var output = result.Output + result.Error;
        Assert.True(
            result.ExitCode is 0 or 1 && output.Contains("(3 of 3 messages)", StringComparison.Ordinal)
            && output.Contains("decision on Watch, p99", StringComparison.Ordinal) && output.Contains("CLI import of 3 invoices", StringComparison.Ordinal),
            $"exit {result.ExitCode}\n{output}");
    }
}
