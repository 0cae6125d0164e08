using System.Diagnostics;
using Invisible.Data.Embedded;
using Invisible.Data.Migrations;
using Invisible.Data.Provisioning;
using Invisible.Data.Secrets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Invisible.Testing;

/// <summary>
/// One real, throw-away PostgreSQL cluster per test process, started on first use with the product's own
/// <see cref="EmbeddedPostgres"/> supervisor in a temporary directory, and stopped and deleted when the process exits.
/// Databases are cut from a template migrated once, so a fresh database costs a <c>CREATE DATABASE … TEMPLATE</c>.
/// </summary>
public static class TestPostgres
{
    private const string DirectoryPrefix = "invisible-test-pg-";
    private const string TemplateDatabase = "invisible_template";

    private static readonly Lazy<Task<SharedCluster>> Cluster = new(StartClusterAsync);

    private static readonly Lazy<Task<string>> PristineDataDirectory = new(InitializePristineDataDirectoryAsync);

    /// <summary>The shared cluster (started on first call).</summary>
    public static async Task<EmbeddedPostgres> GetClusterAsync() => (await Cluster.Value).Server;

    /// <summary>A new, fully migrated, empty database with the owner and application roles. Dispose it to drop it.</summary>
    public static async Task<TestDatabase> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var cluster = await Cluster.Value;
        var name = "test_" + Guid.NewGuid().ToString("N");
        var connectionStrings = await cluster.Provisioner.ProvisionAsync(
            cluster.Server.SuperuserConnectionString(), name, TemplateDatabase, cluster.Passwords, cancellationToken);
        return new TestDatabase(name, cluster.Server.SuperuserConnectionString(name), connectionStrings, cluster.Server);
    }

    /// <summary>
    /// Fills <paramref name="dataDirectory"/> with what the first <see cref="EmbeddedPostgres.StartAsync"/> would leave there:
    /// an initialised, stopped cluster (<c>postgres/</c>) and its secrets file. It is a copy of one cluster initialised once
    /// per process, because initdb takes seconds. For tests of starting, stopping and restarting; tests of initdb itself
    /// should start on an empty directory. The directory must be reachable by the postgres user when running as root.
    /// </summary>
    public static async Task PrepareDataDirectoryAsync(string dataDirectory, CancellationToken cancellationToken = default)
    {
        var pristine = await PristineDataDirectory.Value;
        Directory.CreateDirectory(dataDirectory);
        // cp -a keeps the postgres user's ownership and the 0700 modes the server insists on.
        using var copy = Process.Start(new ProcessStartInfo("cp", ["-a", pristine + "/.", dataDirectory]) { RedirectStandardError = true })!;
        var error = await copy.StandardError.ReadToEndAsync(cancellationToken);
        await copy.WaitForExitAsync(cancellationToken);
        if (copy.ExitCode != 0)
        {
            throw new InvalidOperationException($"Copying the pristine cluster {pristine} to {dataDirectory} failed: {error}");
        }
    }

    private static async Task<string> InitializePristineDataDirectoryAsync()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), DirectoryPrefix + Environment.ProcessId + "-pristine-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDirectory);
        StartCleanupWatchdog(dataDirectory);
        var server = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = dataDirectory, Ephemeral = true }, NullLogger.Instance, CancellationToken.None);
        await server.StopAsync(CancellationToken.None);
        File.Delete(Path.Combine(server.ClusterDirectory, "server.log"));
        return dataDirectory;
    }

    private static async Task<SharedCluster> StartClusterAsync()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), DirectoryPrefix + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDirectory);
        StartCleanupWatchdog(dataDirectory);

        var server = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = dataDirectory, Ephemeral = true }, NullLogger.Instance, CancellationToken.None);

        var passwords = new DatabaseRolePasswords(DatabaseSecretsFile.GenerateSecret(), DatabaseSecretsFile.GenerateSecret());
        var provisioner = new DatabaseProvisioner(DatabaseMigrator.ForEmbeddedMigrations(NullLogger.Instance), NullLogger.Instance);
        await provisioner.ProvisionAsync(server.SuperuserConnectionString(), TemplateDatabase, passwords, CancellationToken.None);
        return new SharedCluster(server, provisioner, passwords);
    }

    /// <summary>
    /// The test host is often killed rather than exited (so ProcessExit never runs), and a debugger session may be aborted:
    /// a detached watchdog waits for this process to end, then shuts the postmaster down (SIGINT = fast shutdown) and
    /// deletes the directory, so no test run leaves a server behind.
    /// </summary>
    private static void StartCleanupWatchdog(string dataDirectory)
    {
        const string script =
            """
            while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
            pid_file="$2/postgres/postmaster.pid"
            if [ -f "$pid_file" ]; then
                kill -INT "$(head -n 1 "$pid_file")" 2>/dev/null
                for _ in $(seq 1 60); do [ -f "$pid_file" ] || break; sleep 0.5; done
            fi
            rm -rf "$2"
            """;
        // setsid -f forks into a new session, so killing the test host's process tree does not take the watchdog with it.
        using var watchdog = Process.Start(new ProcessStartInfo("setsid", ["-f", "sh", "-c", script, "invisible-test-pg-watchdog",
            Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), dataDirectory])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        });
    }

    private sealed record SharedCluster(EmbeddedPostgres Server, DatabaseProvisioner Provisioner, DatabaseRolePasswords Passwords);
}
