using System.Diagnostics;
using System.Text;

namespace Invisible.Data.Embedded;

/// <summary>Runs a command to completion, capturing its output; killed when the caller cancels.</summary>
internal static class ExternalCommand
{
    public static async Task<CommandResult> RunAsync(ProcessStartInfo startInfo, CancellationToken cancellationToken)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;

        using var process = new Process { StartInfo = startInfo };
        var standardOutput = new StringBuilder();
        var standardError = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (standardOutput) { standardOutput.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (standardError) { standardError.AppendLine(e.Data); } } };

        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException($"Could not run {Describe(startInfo)}: {exception.Message}", exception);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        // WaitForExitAsync returns after the output streams reached end of file, so the builders are complete here.
        return new CommandResult(Describe(startInfo), process.ExitCode, standardOutput.ToString(), standardError.ToString());
    }

    public static string Describe(ProcessStartInfo startInfo) =>
        string.Join(' ', new[] { startInfo.FileName }.Concat(startInfo.ArgumentList));
}

internal sealed record CommandResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    public CommandResult EnsureSucceeded(string purpose)
    {
        if (!Succeeded)
        {
            throw new InvalidOperationException(
                $"{purpose} failed: `{Command}` exited with code {ExitCode}.{Environment.NewLine}{StandardError.Trim()}{Environment.NewLine}{StandardOutput.Trim()}".TrimEnd());
        }

        return this;
    }
}
