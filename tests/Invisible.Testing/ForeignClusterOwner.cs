using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Invisible.Testing;

/// <summary>
/// Plays another <c>invisible up</c> that owns a data directory's cluster: a separate process (<c>flock</c>) holds the owner lock
/// on <c>DATA_DIR/postgres.owner</c>, as a live owner does, while the server it started with <c>pg_ctl</c> runs. <see cref="Kill"/>
/// is <c>kill -9</c> of that owner, not of PostgreSQL: the server is left running, as a killed <c>up</c> leaves it.
/// The data directory must hold a prepared, stopped cluster (<see cref="TestPostgres.PrepareDataDirectoryAsync"/>).
/// </summary>
public sealed class ForeignClusterOwner : IDisposable
{
    private readonly Process owner;
    private readonly int keeperId;

    private ForeignClusterOwner(Process owner, int keeperId, int postmasterId, int port)
    {
        this.owner = owner;
        this.keeperId = keeperId;
        PostmasterId = postmasterId;
        Port = port;
    }

    public int PostmasterId { get; }

    public int Port { get; }

    public static async Task<ForeignClusterOwner> StartAsync(string dataDirectory, CancellationToken cancellationToken = default)
    {
        var clusterDirectory = Path.Combine(dataDirectory, "postgres");
        var port = FreeLoopbackPort();
        var runAs = Environment.IsPrivilegedProcess ? "runuser -u postgres -- " : string.Empty;
        // `flock -o` keeps the lock in flock itself (the command does not inherit it), so killing flock releases it; the shell
        // prints its id and then becomes `sleep`, which keeps flock waiting, i.e. the owner alive.
        var script =
            $"echo $$; {runAs}\"$1/pg_ctl\" start -D \"$2\" -l \"$2/server.log\" -w " +
            "-o \"-p $3 -k $2 -c listen_addresses=127.0.0.1\" >/dev/null 2>&1 || exit 1; exec sleep 600";
        var start = new ProcessStartInfo("flock")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/", // somewhere the postgres user may be when running as root
        };
        foreach (var argument in new[]
        {
            "-o", Path.Combine(dataDirectory, "postgres.owner"), "sh", "-c", script, "foreign-owner",
            await BinDirectoryAsync(cancellationToken), clusterDirectory, port.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        var owner = Process.Start(start)!;
        var keeperId = int.Parse((await owner.StandardOutput.ReadLineAsync(cancellationToken))!, CultureInfo.InvariantCulture);
        var pidFile = Path.Combine(clusterDirectory, "postmaster.pid");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (owner.HasExited)
            {
                throw new InvalidOperationException($"The foreign owner could not start PostgreSQL: {await owner.StandardError.ReadToEndAsync(cancellationToken)}");
            }

            // Line 8 of postmaster.pid ("ready") is written once the server accepts connections.
            var lines = File.Exists(pidFile) ? await File.ReadAllLinesAsync(pidFile, deadline.Token) : [];
            if (lines.Length >= 8 && lines[7].Trim() == "ready")
            {
                return new ForeignClusterOwner(owner, keeperId, int.Parse(lines[0], CultureInfo.InvariantCulture), port);
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary><c>kill -9</c> of the owner process; PostgreSQL keeps running.</summary>
    public void Kill()
    {
        owner.Kill();
        owner.WaitForExit();
    }

    public void Dispose()
    {
        if (!owner.HasExited)
        {
            Kill();
        }

        try
        {
            using var keeper = Process.GetProcessById(keeperId);
            keeper.Kill();
        }
        catch (ArgumentException)
        {
            // already gone
        }

        owner.Dispose();
    }

    private static async Task<string> BinDirectoryAsync(CancellationToken cancellationToken)
    {
        using var pgConfig = Process.Start(new ProcessStartInfo("pg_config", ["--bindir"]) { RedirectStandardOutput = true })!;
        var bin = (await pgConfig.StandardOutput.ReadToEndAsync(cancellationToken)).Trim();
        await pgConfig.WaitForExitAsync(cancellationToken);
        if (pgConfig.ExitCode == 0 && File.Exists(Path.Combine(bin, "pg_ctl")))
        {
            return bin;
        }

        return Directory.GetDirectories("/usr/lib/postgresql").Select(version => Path.Combine(version, "bin"))
            .OrderByDescending(path => int.TryParse(Path.GetFileName(Path.GetDirectoryName(path)), out var major) ? major : 0)
            .First(path => File.Exists(Path.Combine(path, "pg_ctl")));
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
