using System.Diagnostics;

namespace Invisible.Data.Embedded;

/// <summary>
/// The operating-system account the PostgreSQL server programs run as. <c>initdb</c> and <c>postgres</c> refuse to run as root,
/// so a privileged process runs them as the unprivileged <c>postgres</c> user (via <c>runuser</c>) and hands it the cluster's files;
/// any other process runs them as itself.
/// </summary>
internal sealed class ServerAccount
{
    private const string UnprivilegedUser = "postgres";

    private ServerAccount(string? switchToUser) => SwitchToUser = switchToUser;

    /// <summary>The user switched to, or null when the programs run as the current user.</summary>
    public string? SwitchToUser { get; }

    public static ServerAccount ForCurrentProcess() =>
        Environment.IsPrivilegedProcess ? new ServerAccount(UnprivilegedUser) : new ServerAccount(null);

    public ProcessStartInfo StartInfo(string program, params IEnumerable<string> arguments)
    {
        var startInfo = new ProcessStartInfo { WorkingDirectory = "/" };
        if (SwitchToUser is null)
        {
            startInfo.FileName = program;
        }
        else
        {
            startInfo.FileName = "runuser";
            foreach (var argument in new[] { "-u", SwitchToUser, "--", program })
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    /// <summary>Gives the server account ownership of a file or directory tree (no-op when no user switch happens).</summary>
    public async Task HandOverAsync(string path, CancellationToken cancellationToken)
    {
        if (SwitchToUser is null)
        {
            return;
        }

        var result = await ExternalCommand.RunAsync(new ProcessStartInfo("chown", ["-R", $"{SwitchToUser}:", path]), cancellationToken);
        result.EnsureSucceeded($"Handing {path} to the '{SwitchToUser}' user");
    }

    /// <summary>Whether the server account can reach (traverse to) the directory.</summary>
    public async Task<bool> CanReachAsync(string directory, CancellationToken cancellationToken)
    {
        if (SwitchToUser is null)
        {
            return true;
        }

        var result = await ExternalCommand.RunAsync(StartInfo("test", "-x", directory), cancellationToken);
        return result.Succeeded;
    }
}
