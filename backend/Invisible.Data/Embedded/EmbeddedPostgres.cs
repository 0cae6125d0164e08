using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Invisible.Data.Secrets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Invisible.Data.Embedded;

/// <summary>
/// Supervises a private PostgreSQL cluster built from this machine's server binaries: <c>initdb</c> on first use, <c>pg_ctl start</c>
/// on a free loopback port, reuse of the same cluster on later runs, recovery from a stale <c>postmaster.pid</c>, and
/// <c>pg_ctl stop -m fast</c> on dispose.
/// When a live server is already serving the cluster (for example <c>invisible up</c> while a CLI verb runs on the same data
/// directory), this instance attaches to it instead of starting a second one, and leaves it running when disposed
/// (<see cref="OwnsServer"/> is false).
/// The owner holds an exclusive lock on <c>DATA_DIR/postgres.owner</c> for as long as it lives; the kernel drops the lock when
/// the owner dies, even by <c>kill -9</c>, so a running cluster whose lock is free was left behind and is adopted (stopped on
/// dispose like one this instance started) rather than attached to and leaked again.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string SuperuserName = "postgres";

    private const int MaxStartAttempts = 5;
    private const int MaxSocketPathLength = 100;
    private const string PidFileName = "postmaster.pid";
    private const string ServerLogFileName = "server.log";
    private const string OwnerFileName = "postgres.owner";
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    // Failures a second attempt can cure: another process took the port we probed, or children of a killed postmaster
    // still hold the old shared-memory segment for a few milliseconds.
    private static readonly string[] TransientStartFailures = ["could not bind", "Address already in use", "shared memory block", "lock file"];

    private readonly PostgresBinaries binaries;
    private readonly ServerAccount account;
    private readonly ILogger logger;
    private readonly string superuserPassword;
    private readonly EmbeddedPostgresOptions options;
    private readonly SemaphoreSlim stopGate = new(1, 1);
    private FileStream? ownerLock;
    private volatile bool stopped;
    private volatile bool stopping;

    private EmbeddedPostgres(
        PostgresBinaries binaries, ServerAccount account, ILogger logger, string superuserPassword, EmbeddedPostgresOptions options,
        string clusterDirectory, int port, bool ownsServer, FileStream? ownerLock)
    {
        this.binaries = binaries;
        this.account = account;
        this.logger = logger;
        this.superuserPassword = superuserPassword;
        this.options = options;
        this.ownerLock = ownerLock;
        ClusterDirectory = clusterDirectory;
        Port = port;
        OwnsServer = ownsServer;
    }

    /// <summary>The PostgreSQL data directory (<c>PGDATA</c>): <c>DATA_DIR/postgres</c>, or a relocated folder when running as root.</summary>
    public string ClusterDirectory { get; }

    /// <summary>The TCP port on 127.0.0.1 the server listens on.</summary>
    public int Port { get; }

    /// <summary>
    /// True when this instance started the server (or adopted one left behind by a dead owner) and stops it on dispose; false when
    /// it attached to a server another live process owns.
    /// </summary>
    public bool OwnsServer { get; }

    /// <summary>True once <see cref="StopAsync"/> ran: the server is down on purpose and must not be restarted.</summary>
    public bool IsStopped => stopped || stopping;

    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        CreateDataDirectory(dataDirectory);

        var binaries = await PostgresBinaries.LocateAsync(options.BinDirectory, cancellationToken);
        var account = ServerAccount.ForCurrentProcess();
        var secrets = DatabaseSecretsFile.InDataDirectory(dataDirectory);
        var isNewDataDirectory = !await secrets.ContainsAsync(DatabaseSecretsFile.SuperuserPassword, cancellationToken);
        var superuserPassword = await secrets.GetOrCreateAsync(DatabaseSecretsFile.SuperuserPassword, cancellationToken);
        var clusterDirectory = await PlaceClusterAsync(dataDirectory, isNewDataDirectory, binaries, account, logger, cancellationToken);

        if (!File.Exists(Path.Combine(clusterDirectory, "PG_VERSION")))
        {
            await InitializeClusterAsync(binaries, account, clusterDirectory, superuserPassword, options.Ephemeral, logger, cancellationToken);
        }

        var ownerLock = TryTakeOwnership(dataDirectory, out var previousOwner);
        try
        {
            var runningPort = await FindRunningServerPortAsync(binaries, account, clusterDirectory, logger, cancellationToken);
            if (runningPort is { } attachedPort && ownerLock is null)
            {
                logger.LogInformation("PostgreSQL is already running for {ClusterDirectory} on port {Port}; attaching to it", clusterDirectory, attachedPort);
                return new EmbeddedPostgres(
                    binaries, account, logger, superuserPassword, options, clusterDirectory, attachedPort, ownsServer: false, ownerLock: null);
            }

            if (runningPort is { } adoptedPort)
            {
                logger.LogWarning(
                    "PostgreSQL for {ClusterDirectory} on port {Port} was left running by a process that is gone ({PreviousOwner}); " +
                    "taking it over, so it is stopped on exit like one this process started",
                    clusterDirectory, adoptedPort, previousOwner);
                return new EmbeddedPostgres(
                    binaries, account, logger, superuserPassword, options, clusterDirectory, adoptedPort, ownsServer: true, ownerLock);
            }

            var port = await StartServerAsync(binaries, account, clusterDirectory, options, logger, cancellationToken);
            return new EmbeddedPostgres(binaries, account, logger, superuserPassword, options, clusterDirectory, port, ownsServer: true, ownerLock);
        }
        catch
        {
            ownerLock?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the postmaster named in <c>postmaster.pid</c> is alive. Cheap (a file and <c>/proc</c>), for polling every second;
    /// falls back to <c>pg_ctl status</c> where there is no <c>/proc</c>.
    /// </summary>
    public async Task<bool> IsServerAliveAsync(CancellationToken cancellationToken)
    {
        string? firstLine;
        try
        {
            firstLine = File.ReadLines(Path.Combine(ClusterDirectory, PidFileName)).FirstOrDefault();
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }

        if (!Directory.Exists("/proc") || !int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out var processId))
        {
            // No /proc, or the file is being written by a starting server: ask pg_ctl.
            return await IsServerRunningAsync(binaries, account, ClusterDirectory, cancellationToken);
        }

        return IsProcessAlive(processId);
    }

    /// <summary>
    /// Starts the server again, on the same port, after it died (PostgreSQL runs crash recovery itself). Does nothing once
    /// <see cref="StopAsync"/> ran, nor for a server this instance merely attached to. The port must stay the same because
    /// every connection string of the product names it, so a port taken in the meantime is reported as such
    /// (<see cref="PostgresPortTakenException"/>) rather than moved.
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await stopGate.WaitAsync(cancellationToken);
        try
        {
            if (stopped || !OwnsServer)
            {
                return;
            }

            if (await FindRunningServerPortAsync(binaries, account, ClusterDirectory, logger, cancellationToken) is { } runningPort)
            {
                if (runningPort == Port)
                {
                    return;
                }

                throw new InvalidOperationException(
                    $"PostgreSQL for {ClusterDirectory} was started by someone else on port {runningPort}, not on {Port}, which this product's " +
                    $"connection strings name; stop it (pg_ctl stop -D {ClusterDirectory}) so it can come back on {Port}.");
            }

            if (!IsLoopbackPortFree(Port))
            {
                throw new PostgresPortTakenException(Port, ClusterDirectory);
            }

            await StartServerAsync(
                binaries, account, ClusterDirectory,
                new EmbeddedPostgresOptions
                {
                    DataDirectory = options.DataDirectory,
                    BinDirectory = options.BinDirectory,
                    Port = Port,
                    Ephemeral = options.Ephemeral,
                    Archiving = options.Archiving,
                    StartupTimeout = options.StartupTimeout,
                },
                logger, cancellationToken);
        }
        finally
        {
            stopGate.Release();
        }
    }

    /// <summary>A TCP connection string for the cluster's superuser (used only to provision roles and databases).</summary>
    public string SuperuserConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = Port,
            Username = SuperuserName,
            Password = superuserPassword,
            Database = database,
        }.ConnectionString;

    /// <summary>Stops the server with <c>pg_ctl stop -m fast</c> if this instance started it. Idempotent.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopGate.WaitAsync(cancellationToken);
        try
        {
            if (stopped || !OwnsServer)
            {
                return;
            }

            // Said before the server goes down, so that a supervisor seeing it gone meanwhile does not take it for a crash.
            stopping = true;
            var result = await ExternalCommand.RunAsync(
                account.StartInfo(binaries.PgCtl, "stop", "-D", ClusterDirectory, "-m", "fast", "-w", "-t", TimeoutSeconds(options.StartupTimeout)),
                cancellationToken);
            if (!result.Succeeded && await IsServerRunningAsync(binaries, account, ClusterDirectory, cancellationToken))
            {
                result.EnsureSucceeded($"Stopping PostgreSQL in {ClusterDirectory}");
            }

            stopped = true;
            // Only once the server is down: a process starting meanwhile must attach to it, not adopt it.
            ownerLock?.Dispose();
            ownerLock = null;
            logger.LogInformation("PostgreSQL in {ClusterDirectory} stopped", ClusterDirectory);
        }
        finally
        {
            stopGate.Release();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>
    /// Takes the exclusive owner lock of the data directory's cluster, or returns null when a live process holds it. The lock is
    /// <c>flock</c> (what <see cref="FileShare.None"/> means on Unix), which the kernel releases when its holder exits in any way;
    /// the file itself is never deleted, since deleting a locked file would let two processes lock two different files.
    /// </summary>
    private static FileStream? TryTakeOwnership(string dataDirectory, out string previousOwner)
    {
        var path = Path.Combine(dataDirectory, OwnerFileName);
        var lockOptions = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            lockOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, lockOptions);
        }
        catch (IOException)
        {
            previousOwner = "a live process";
            return null;
        }

        using (var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true))
        {
            var recorded = reader.ReadToEnd().Trim();
            previousOwner = recorded.Length == 0 ? "no owner recorded" : $"process {recorded}";
        }

        // The process id is for people reading the file; the lock is what counts.
        stream.SetLength(0);
        stream.Write(Encoding.UTF8.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
        stream.Flush();
        return stream;
    }

    /// <summary>Alive and not a zombie: a killed postmaster re-parented to a process that does not reap it stays listed a while.</summary>
    private static bool IsProcessAlive(int processId)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        // The state follows the command name, which is in parentheses and may itself contain spaces or parentheses.
        var afterName = stat.LastIndexOf(')');
        return afterName >= 0 && stat.AsSpan(afterName + 1).TrimStart() is { Length: > 0 } rest && rest[0] is not ('Z' or 'X');
    }

    private static bool IsLoopbackPortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
    }

    private static async Task<string> PlaceClusterAsync(
        string dataDirectory, bool isNewDataDirectory, PostgresBinaries binaries, ServerAccount account, ILogger logger,
        CancellationToken cancellationToken)
    {
        var clusterDirectory = Path.Combine(dataDirectory, "postgres");
        if (!await account.CanReachAsync(dataDirectory, cancellationToken))
        {
            // e.g. a data directory under /root (0700): the postgres user cannot even look inside, so the cluster lives in a
            // root-created folder it owns, named after the data directory so later runs find the same cluster again.
            var relocationRoot = Path.Combine("/var/tmp", "invisible-pg-" + ShortHash(dataDirectory));
            if (isNewDataDirectory && Directory.Exists(relocationRoot))
            {
                await DiscardOrphanedClusterAsync(relocationRoot, binaries, account, logger, cancellationToken);
            }

            CreatePrivateDirectory(relocationRoot);
            await account.HandOverAsync(relocationRoot, cancellationToken);
            clusterDirectory = Path.Combine(relocationRoot, "data");
            logger.LogWarning(
                "The '{User}' user cannot reach {DataDirectory}; the PostgreSQL cluster is placed at {ClusterDirectory} instead",
                account.SwitchToUser, dataDirectory, clusterDirectory);
        }

        if (!Directory.Exists(clusterDirectory))
        {
            CreatePrivateDirectory(clusterDirectory);
            await account.HandOverAsync(clusterDirectory, cancellationToken);
        }

        return clusterDirectory;
    }

    /// <summary>
    /// A relocated cluster whose data directory was deleted and created afresh: its superuser password went with the old
    /// secrets file, so nobody can log in to it any more, just as a cluster kept inside the data directory would be gone.
    /// </summary>
    private static async Task DiscardOrphanedClusterAsync(
        string relocationRoot, PostgresBinaries binaries, ServerAccount account, ILogger logger, CancellationToken cancellationToken)
    {
        var orphan = Path.Combine(relocationRoot, "data");
        if (File.Exists(Path.Combine(orphan, PidFileName)) && await IsServerRunningAsync(binaries, account, orphan, cancellationToken))
        {
            throw new InvalidOperationException(
                $"PostgreSQL is still running in {orphan}, which belonged to an earlier data directory at the same path; stop it (pg_ctl stop -D {orphan}) first.");
        }

        logger.LogWarning("Discarding {ClusterDirectory}: it belonged to an earlier data directory at the same path, whose secrets are gone", orphan);
        Directory.Delete(relocationRoot, recursive: true);
    }

    private static async Task InitializeClusterAsync(
        PostgresBinaries binaries, ServerAccount account, string clusterDirectory, string superuserPassword, bool ephemeral,
        ILogger logger, CancellationToken cancellationToken)
    {
        logger.LogInformation("Initialising a new PostgreSQL cluster in {ClusterDirectory}", clusterDirectory);
        // initdb reads the password from a file, so it never appears on a command line; the file sits next to the cluster,
        // where the server account can read it, and is deleted right after.
        var passwordFile = Path.Combine(Path.GetDirectoryName(clusterDirectory)!, $".initdb-{Guid.NewGuid():N}.pw");
        try
        {
            await WritePrivateFileAsync(passwordFile, superuserPassword, cancellationToken);
            await account.HandOverAsync(passwordFile, cancellationToken);
            List<string> arguments =
            [
                "-D", clusterDirectory, "-U", SuperuserName, $"--pwfile={passwordFile}", "--encoding=UTF8",
                $"--locale={await ChooseLocaleAsync(cancellationToken)}",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--no-instructions",
            ];
            if (ephemeral)
            {
                arguments.Add("--no-sync");
            }

            var result = await ExternalCommand.RunAsync(account.StartInfo(binaries.InitDb, arguments), cancellationToken);
            result.EnsureSucceeded($"Initialising a PostgreSQL cluster in {clusterDirectory}");
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static async Task<int?> FindRunningServerPortAsync(
        PostgresBinaries binaries, ServerAccount account, string clusterDirectory, ILogger logger, CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(clusterDirectory, PidFileName);
        if (!File.Exists(pidFile))
        {
            return null;
        }

        if (await IsServerRunningAsync(binaries, account, clusterDirectory, cancellationToken))
        {
            // Line 4 of postmaster.pid is the port the live postmaster listens on.
            var lines = await File.ReadAllLinesAsync(pidFile, cancellationToken);
            if (lines.Length >= 4 && int.TryParse(lines[3], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                return port;
            }

            throw new InvalidOperationException($"PostgreSQL is running for {clusterDirectory} but {pidFile} does not name its port yet; retry in a moment.");
        }

        logger.LogWarning("Removing stale {PidFile}: the PostgreSQL process it names is gone", pidFile);
        File.Delete(pidFile);
        return null;
    }

    private static async Task<bool> IsServerRunningAsync(
        PostgresBinaries binaries, ServerAccount account, string clusterDirectory, CancellationToken cancellationToken)
    {
        // pg_ctl status checks that the postmaster named in postmaster.pid is alive; exit code 3 means "no server running".
        var status = await ExternalCommand.RunAsync(account.StartInfo(binaries.PgCtl, "status", "-D", clusterDirectory), cancellationToken);
        return status.Succeeded;
    }

    private static async Task<int> StartServerAsync(
        PostgresBinaries binaries, ServerAccount account, string clusterDirectory, EmbeddedPostgresOptions options, ILogger logger,
        CancellationToken cancellationToken)
    {
        var socketDirectory = await ChooseSocketDirectoryAsync(clusterDirectory, account, cancellationToken);
        var logFile = Path.Combine(clusterDirectory, ServerLogFileName);
        for (var attempt = 1; ; attempt++)
        {
            var port = options.Port != 0 ? options.Port : PickFreeLoopbackPort();
            var logLengthBefore = File.Exists(logFile) ? new FileInfo(logFile).Length : 0;
            var result = await ExternalCommand.RunAsync(
                account.StartInfo(
                    binaries.PgCtl, "start", "-D", clusterDirectory, "-l", logFile, "-w", "-t", TimeoutSeconds(options.StartupTimeout),
                    "-o", ServerOptions(port, socketDirectory, options.Ephemeral, options.Archiving)),
                cancellationToken);
            if (result.Succeeded)
            {
                logger.LogInformation("PostgreSQL started for {ClusterDirectory} on 127.0.0.1:{Port}", clusterDirectory, port);
                return port;
            }

            var serverLog = await ReadLogSinceAsync(logFile, logLengthBefore, cancellationToken);
            var transient = TransientStartFailures.Any(failure => serverLog.Contains(failure, StringComparison.OrdinalIgnoreCase));
            if (!transient || attempt == MaxStartAttempts)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL did not start for {clusterDirectory} (attempt {attempt}): `{result.Command}` exited with code {result.ExitCode}." +
                    $"{Environment.NewLine}{result.StandardError.Trim()}{Environment.NewLine}Server log ({logFile}):{Environment.NewLine}{serverLog.Trim()}");
            }

            logger.LogWarning("PostgreSQL start attempt {Attempt} for {ClusterDirectory} hit a transient failure; retrying", attempt, clusterDirectory);
            await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), cancellationToken);
        }
    }

    private static string ServerOptions(int port, string socketDirectory, bool ephemeral, WalArchiving? archiving)
    {
        // pg_ctl hands -o to a shell, so the free-form values (a path, a command) are single-quoted.
        var quotedSocketDirectory = ShellQuote(socketDirectory);
        // Autovacuum sooner than PostgreSQL's defaults (after 20 % growth, looked at every minute): a tenant's bulk load is
        // vacuumed within seconds, which sets the visibility map that lets counts and pages of its lists be index-only scans.
        var serverOptions = $"-p {port.ToString(CultureInfo.InvariantCulture)} -k {quotedSocketDirectory} -c listen_addresses=127.0.0.1" +
                            " -c autovacuum_naptime=10s -c autovacuum_vacuum_insert_scale_factor=0.02 -c autovacuum_vacuum_scale_factor=0.05" +
                            " -c autovacuum_analyze_scale_factor=0.05";
        if (archiving is not null)
        {
            // On the command line rather than in postgresql.conf, so archiving is on from the very first start of a cluster and a
            // restored cluster (whose files came from elsewhere) archives into its own repository.
            serverOptions += " -c wal_level=replica -c archive_mode=on" +
                             $" -c archive_timeout={TimeoutSeconds(archiving.Timeout)} -c {ShellQuote("archive_command=" + archiving.Command)}";
        }

        if (ephemeral)
        {
            return serverOptions + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        }

        // The server's own log in CLUSTER/log, one file per UTC day (the retention run removes those older than 90 days);
        // server.log keeps only what is written before the collector starts (a failed start).
        return serverOptions + " -c logging_collector=on -c log_directory=log -c log_rotation_age=1d -c log_rotation_size=0" +
               " -c log_timezone=UTC -c " + ShellQuote("log_filename=postgresql-%Y-%m-%d.log");
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The folder of the server's Unix socket (the cluster folder, or a short one in /tmp for deep paths).</summary>
    public string SocketDirectory => SocketDirectoryFor(ClusterDirectory);

    internal ServerAccount Account => account;

    internal PostgresBinaries Binaries => binaries;

    private static string SocketDirectoryFor(string clusterDirectory) =>
        Path.Combine(clusterDirectory, ".s.PGSQL.65535.lock").Length <= MaxSocketPathLength
            ? clusterDirectory
            : Path.Combine("/tmp", "invisible-pgsock-" + ShortHash(clusterDirectory));

    private static async Task<string> ChooseSocketDirectoryAsync(string clusterDirectory, ServerAccount account, CancellationToken cancellationToken)
    {
        // A Unix socket path is limited to ~107 bytes (sun_path); deep data directories get a short private folder in /tmp.
        var shortDirectory = SocketDirectoryFor(clusterDirectory);
        if (shortDirectory == clusterDirectory)
        {
            return clusterDirectory;
        }

        CreatePrivateDirectory(shortDirectory);
        await account.HandOverAsync(shortDirectory, cancellationToken);
        return shortDirectory;
    }

    private static async Task<string> ChooseLocaleAsync(CancellationToken cancellationToken)
    {
        var installed = await ExternalCommand.RunAsync(new ProcessStartInfo("locale", ["-a"]), cancellationToken);
        var hasUtf8C = installed.StandardOutput
            .Split('\n', StringSplitOptions.TrimEntries)
            .Any(locale => locale.Equals("C.UTF-8", StringComparison.OrdinalIgnoreCase) || locale.Equals("C.utf8", StringComparison.OrdinalIgnoreCase));
        return hasUtf8C ? "C.UTF-8" : "C";
    }

    private static async Task<string> ReadLogSinceAsync(string logFile, long offset, CancellationToken cancellationToken)
    {
        if (!File.Exists(logFile))
        {
            return "(no server log written)";
        }

        await using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private static int PickFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void CreateDataDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        // Others may traverse but not list it (0711): the server account must reach the cluster folder inside, while every
        // secret in it is a 0600 file.
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }
    }

    private static async Task WritePrivateFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken);
    }

    private static string ShortHash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];

    private static string TimeoutSeconds(TimeSpan timeout) =>
        ((int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
