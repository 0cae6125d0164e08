using System.Diagnostics;
using System.Runtime.Versioning;
using LinqToDB.Data;
using Invisible.Data.Embedded;
using Invisible.Data.Secrets;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Data.Tests;

/// <summary>The supervisor against the machine's real PostgreSQL binaries; each test has its own cluster.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class EmbeddedPostgresTests : IDisposable
{
    private readonly TemporaryDirectory dataDirectory = new("invisible-embedded-");

    public void Dispose() => dataDirectory.Dispose();

    [Fact]
    public async Task The_first_start_initialises_a_cluster_that_requires_the_generated_password()
    {
        await using var cluster = await StartAsync();

        Assert.True(File.Exists(Path.Combine(cluster.ClusterDirectory, "PG_VERSION")));
        Assert.Equal(Path.Combine(dataDirectory.Path, "postgres"), cluster.ClusterDirectory);
        Assert.Equal(1, await QueryAsync<int>(cluster, "select 1"));
        Assert.Equal("127.0.0.1", await QueryAsync<string>(cluster, "select current_setting('listen_addresses')"));
        var secrets = DatabaseSecretsFile.InDataDirectory(dataDirectory.Path).Path;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secrets));

        var withoutPassword = new NpgsqlConnectionStringBuilder(cluster.SuperuserConnectionString()) { Password = "wrong" };
        await using var intruder = new NpgsqlConnection(withoutPassword.ConnectionString);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => intruder.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
    }

    [Fact]
    public async Task A_restarted_cluster_keeps_its_data()
    {
        await using (var first = await StartPreparedAsync())
        {
            await QueryAsync<int>(first, "create table survivor (name text); insert into survivor values ('still here'); select 1");
        }

        await using var second = await StartAsync();

        Assert.Equal("still here", await QueryAsync<string>(second, "select name from survivor"));
    }

    [Fact]
    public async Task A_killed_server_leaves_a_stale_pid_file_and_the_next_start_recovers()
    {
        await using (var first = await StartPreparedAsync())
        {
            using var postmaster = Process.GetProcessById(PostmasterProcessId(first));
            postmaster.Kill();
            await postmaster.WaitForExitAsync();
            Assert.True(File.Exists(Path.Combine(first.ClusterDirectory, "postmaster.pid")));
        }

        await using var second = await StartAsync();

        Assert.True(second.OwnsServer);
        Assert.Equal(1, await QueryAsync<int>(second, "select 1"));
    }

    [Fact]
    public async Task Stopping_leaves_no_postgres_process_of_the_cluster_behind()
    {
        var cluster = await StartPreparedAsync();
        var serverProcesses = ProcessesMentioning(cluster.ClusterDirectory).Append(PostmasterProcessId(cluster)).Distinct().ToList();
        serverProcesses.AddRange(ChildrenOf(PostmasterProcessId(cluster)));

        await cluster.StopAsync(CancellationToken.None);
        await cluster.StopAsync(CancellationToken.None);
        await cluster.DisposeAsync();

        Assert.True(serverProcesses.Count > 1);
        Assert.All(serverProcesses, processId => Assert.False(IsRunning(processId), $"process {processId} is still running"));
        Assert.Empty(ProcessesMentioning(cluster.ClusterDirectory));
        Assert.False(File.Exists(Path.Combine(cluster.ClusterDirectory, "postmaster.pid")));
    }

    [Fact]
    public async Task A_second_start_on_a_running_cluster_attaches_and_leaves_the_server_running()
    {
        await using var owner = await StartPreparedAsync();

        await using (var attached = await StartAsync())
        {
            Assert.False(attached.OwnsServer);
            Assert.Equal(owner.Port, attached.Port);
        }

        Assert.Equal(1, await QueryAsync<int>(owner, "select 1"));
    }

    [Fact]
    public async Task A_cluster_left_running_by_a_killed_owner_is_adopted_and_stopped_by_its_new_owner()
    {
        await TestPostgres.PrepareDataDirectoryAsync(dataDirectory.Path);
        using var foreignOwner = await ForeignClusterOwner.StartAsync(dataDirectory.Path);

        // While its owner lives, the cluster is only attached to and left running.
        await using (var attached = await StartAsync())
        {
            Assert.False(attached.OwnsServer);
        }

        Assert.True(IsRunning(foreignOwner.PostmasterId));

        foreignOwner.Kill();
        var adopted = await StartAsync();
        Assert.True(adopted.OwnsServer);
        Assert.Equal(foreignOwner.Port, adopted.Port);
        Assert.Equal(foreignOwner.PostmasterId, PostmasterProcessId(adopted));
        Assert.Equal(1, await QueryAsync<int>(adopted, "select 1"));
        await adopted.DisposeAsync();

        Assert.False(IsRunning(foreignOwner.PostmasterId), "the adopted postmaster is still running");
        Assert.False(File.Exists(Path.Combine(adopted.ClusterDirectory, "postmaster.pid")));
    }

    [Fact]
    public async Task The_server_does_not_inherit_the_owner_lock_so_a_killed_owner_releases_it()
    {
        await using var cluster = await StartPreparedAsync();
        var ownerFile = Path.Combine(dataDirectory.Path, "postgres.owner");
        var postmaster = PostmasterProcessId(cluster);

        Assert.Contains(ownerFile, OpenFiles(Environment.ProcessId));
        Assert.All(ChildrenOf(postmaster).Append(postmaster), server => Assert.DoesNotContain(ownerFile, OpenFiles(server)));
    }

    [Fact]
    public async Task A_killed_server_is_restarted_on_the_same_port_with_its_data()
    {
        await using var cluster = await StartPreparedAsync();
        // The test cluster commits asynchronously; a synchronous commit puts the row in the WAL before the kill.
        await QueryAsync<int>(
            cluster, "set synchronous_commit = on; create table survivor (name text); insert into survivor values ('still here'); select 1");
        using (var postmaster = Process.GetProcessById(PostmasterProcessId(cluster)))
        {
            postmaster.Kill();
            await postmaster.WaitForExitAsync();
        }

        Assert.False(await cluster.IsServerAliveAsync(CancellationToken.None));
        await cluster.RestartAsync(CancellationToken.None);

        Assert.True(await cluster.IsServerAliveAsync(CancellationToken.None));
        Assert.Equal(cluster.Port, int.Parse(File.ReadLines(Path.Combine(cluster.ClusterDirectory, "postmaster.pid")).ElementAt(3)));
        Assert.Equal("still here", await QueryAsync<string>(cluster, "select name from survivor"));
    }

    [Fact]
    public async Task A_restart_onto_a_port_another_process_took_is_refused_naming_the_port()
    {
        await using var cluster = await StartPreparedAsync();
        using (var postmaster = Process.GetProcessById(PostmasterProcessId(cluster)))
        {
            postmaster.Kill();
            await postmaster.WaitForExitAsync();
        }

        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, cluster.Port);
        // The killed postmaster's children may hold its listening socket for a moment.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                squatter.Start();
                break;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }

        var refused = await Assert.ThrowsAsync<PostgresPortTakenException>(() => cluster.RestartAsync(CancellationToken.None));

        Assert.Equal(cluster.Port, refused.Port);
        Assert.Contains($"Port {cluster.Port} on 127.0.0.1 is taken", refused.Message, StringComparison.Ordinal);
        Assert.False(await cluster.IsServerAliveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_deep_data_directory_gets_its_socket_in_a_short_folder()
    {
        var deep = Path.Combine(dataDirectory.Path, new string('d', 60), new string('e', 60));
        await using var cluster = await StartAsync(deep);

        var socketDirectory = File.ReadAllLines(Path.Combine(cluster.ClusterDirectory, "postmaster.pid"))[4];

        Assert.StartsWith("/tmp/invisible-pgsock-", socketDirectory, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(socketDirectory, $".s.PGSQL.{cluster.Port}")));
        await cluster.StopAsync(CancellationToken.None);
        Directory.Delete(socketDirectory, recursive: true);
    }

    [Fact]
    public async Task Missing_server_binaries_are_reported_with_the_place_searched()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = dataDirectory.Path, BinDirectory = "/nowhere/bin" }, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("PostgreSQL server binaries not found", failure.Message, StringComparison.Ordinal);
        Assert.Contains("/nowhere/bin", failure.Message, StringComparison.Ordinal);
    }

    [RootOnlyFact]
    public async Task As_root_a_data_directory_the_postgres_user_cannot_reach_gets_a_relocated_cluster()
    {
        var unreachable = Path.Combine(dataDirectory.Path, "private");
        Directory.CreateDirectory(unreachable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var productDataDirectory = Path.Combine(unreachable, "data");
        var cluster = await StartAsync(productDataDirectory);
        try
        {
            Assert.StartsWith("/var/tmp/invisible-pg-", cluster.ClusterDirectory, StringComparison.Ordinal);
            await QueryAsync<int>(cluster, "create table survivor (name text); select 1");
            await cluster.StopAsync(CancellationToken.None);

            await using (var again = await StartAsync(productDataDirectory))
            {
                Assert.Equal(cluster.ClusterDirectory, again.ClusterDirectory);
                Assert.Equal("survivor", await QueryAsync<string>(again, "select to_regclass('survivor')::text"));
            }

            // A deleted data directory takes its secrets along; the relocated cluster must not outlive them.
            Directory.Delete(productDataDirectory, recursive: true);
            await using var fresh = await StartAsync(productDataDirectory);
            Assert.Equal(cluster.ClusterDirectory, fresh.ClusterDirectory);
            Assert.Null(await QueryAsync<string?>(fresh, "select to_regclass('survivor')::text"));
        }
        finally
        {
            await cluster.DisposeAsync();
            Directory.Delete(Path.GetDirectoryName(cluster.ClusterDirectory)!, recursive: true);
        }
    }

    /// <summary>Starts the cluster of the test's data directory (initialising it on first use, like the product does).</summary>
    private Task<EmbeddedPostgres> StartAsync(string? directory = null) =>
        EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = directory ?? dataDirectory.Path, Ephemeral = true },
            NullLogger.Instance, CancellationToken.None);

    /// <summary>Like <see cref="StartAsync"/>, but on a copy of an already initialised cluster, for tests that are not about initdb.</summary>
    private async Task<EmbeddedPostgres> StartPreparedAsync()
    {
        await TestPostgres.PrepareDataDirectoryAsync(dataDirectory.Path);
        return await StartAsync();
    }

    private static async Task<T> QueryAsync<T>(EmbeddedPostgres cluster, string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(cluster.SuperuserConnectionString()) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        return (await connection.Linq().ExecuteAsync<T>(sql, CancellationToken.None))!;
    }

    private static int PostmasterProcessId(EmbeddedPostgres cluster) =>
        int.Parse(File.ReadLines(Path.Combine(cluster.ClusterDirectory, "postmaster.pid")).First());

    private static List<string> OpenFiles(int processId) =>
        Directory.EnumerateFileSystemEntries($"/proc/{processId}/fd")
            .Select(descriptor => new FileInfo(descriptor).LinkTarget)
            .OfType<string>()
            .ToList();

    private static List<int> ProcessesMentioning(string text) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Where(name => ReadOrEmpty($"/proc/{name}/cmdline").Contains(text, StringComparison.Ordinal))
            .Select(name => int.Parse(name!))
            .ToList();

    private static List<int> ChildrenOf(int parentId) =>
        Directory.EnumerateDirectories("/proc")
            .Select(Path.GetFileName)
            .Where(name => int.TryParse(name, out _))
            .Where(name => StatusFields(int.Parse(name!)) is { Length: > 1 } fields && fields[1] == parentId.ToString())
            .Select(name => int.Parse(name!))
            .ToList();

    /// <summary>Alive and not a zombie: an exited postmaster, re-parented to init, may wait a while to be reaped.</summary>
    private static bool IsRunning(int processId) => StatusFields(processId) is { Length: > 0 } fields && fields[0] != "Z";

    /// <summary>The fields of /proc/PID/stat after the command name: state, parent id, ...</summary>
    private static string[] StatusFields(int processId)
    {
        var stat = ReadOrEmpty($"/proc/{processId}/stat");
        var afterName = stat.LastIndexOf(')');
        return afterName < 0 ? [] : stat[(afterName + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty; // the process ended while we looked
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}

/// <summary>A fact that only means something for a root process (the postgres-user switch); skipped otherwise.</summary>
public sealed class RootOnlyFactAttribute : FactAttribute
{
    public RootOnlyFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "Needs root: covers running the server as the postgres user.";
        }
    }
}
