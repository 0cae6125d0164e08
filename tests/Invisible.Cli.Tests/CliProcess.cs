using System.Diagnostics;

namespace Invisible.Cli.Tests;

/// <summary>Runs the built <c>invisible</c> executable as a user would, capturing its output.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Task<Result> RunAsync(params string[] arguments) => RunAsync(new Dictionary<string, string>(), arguments);

    /// <param name="environment">Variables set for the process (e.g. INVISIBLE_API_KEY), on top of the test's own.</param>
    public static Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        RunAsync(TimeSpan.FromMinutes(3), environment, arguments);

    /// <param name="timeout">How long the command may take (three minutes in the other overloads).</param>
    public static async Task<Result> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Start(environment, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Runs the executable with <paramref name="input"/> on its standard input (closed after it).</summary>
    public static async Task<Result> RunWithInputAsync(string input, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Start(environment, arguments, redirectInput: true);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Starts the executable without waiting, for tests that interfere with it while it runs (the caller disposes it).</summary>
    public static Process Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    private static Process Start(IReadOnlyDictionary<string, string> environment, string[] arguments, bool redirectInput = false)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "invisible.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
