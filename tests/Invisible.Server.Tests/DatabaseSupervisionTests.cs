using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Invisible.Contracts.Auth.V1;
using Invisible.Server.Hosting;
using Invisible.Server.Tests.Accounts;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Invisible.Server.Tests;

/// <summary>
/// The product with its own embedded cluster and a slow first restart attempt (5 s), so that the degraded state between the
/// cluster's death and its return can be seen from outside without racing the supervisor.
/// </summary>
public sealed class SupervisedServer : IAsyncLifetime
{
    private readonly TemporaryDirectory _directory = new("invisible-supervised-");

    public InvisibleServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await TestPostgres.PrepareDataDirectoryAsync(_directory.Path);
        Server = await InvisibleServer.StartAsync(
            [
                $"--Server:DataDirectory={_directory.Path}",
                "--Server:HttpPort=0",
                "--Server:GrpcPort=0",
                "--Database:Supervision:PollInterval=00:00:00.200",
                "--Database:Supervision:InitialBackoff=00:00:05",
            ],
            configure: null,
            CancellationToken.None);
        Http = new HttpClient { BaseAddress = new Uri(Server.Endpoints.Http) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        _directory.Dispose();
    }
}

public sealed class DatabaseSupervisionTests(SupervisedServer supervised) : IClassFixture<SupervisedServer>
{
    private static readonly TimeSpan BoundedWait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_killed_postmaster_is_restarted_and_the_product_is_ready_again_without_a_restart()
    {
        var server = supervised.Server;
        var cluster = server.Database.Cluster!;
        using var rpc = new GrpcTestChannel(new Uri(server.Endpoints.Grpc));
        var signIn = new SignInRequest { Email = "nobody@example.com", Password = "not the password" };
        var signInBefore = await rpc.CallAsync(Rpcs.Auth("SignIn"), signIn);
        // The pool holds a connection to the server about to die; queries through the same pool must work after the restart.
        Assert.Equal(1, await QueryThroughThePoolAsync(server));
        var killed = PostmasterProcessId(cluster.ClusterDirectory);

        using (var postmaster = Process.GetProcessById(killed))
        {
            postmaster.Kill();
            await postmaster.WaitForExitAsync();
        }

        var degraded = await PollAsync("/healthz", body => body.TryGetProperty("database", out var database) && database.GetString() == "restarting");
        Assert.Equal(HttpStatusCode.OK, degraded.Status);
        Assert.Equal("live", degraded.Body.GetProperty("status").GetString());
        var unready = await GetAsync("/readyz");
        Assert.True(unready.Status == HttpStatusCode.ServiceUnavailable, $"/readyz while restarting: {unready.Body}");

        var ready = await PollAsync("/readyz", body => body.GetProperty("status").GetString() == "ready");
        Assert.Equal(HttpStatusCode.OK, ready.Status);
        var healthy = await GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthy.Status);
        Assert.False(healthy.Body.TryGetProperty("database", out _), $"/healthz after the restart: {healthy.Body}");
        using var channel = GrpcChannel.ForAddress(server.Endpoints.Grpc);
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal(1, await QueryThroughThePoolAsync(server));
        var signInAfter = await rpc.CallAsync(Rpcs.Auth("SignIn"), signIn);
        Assert.Equal(signInBefore.Status, signInAfter.Status);
        Assert.NotEqual(StatusCode.Unavailable, signInAfter.Status);
        Assert.NotEqual(killed, PostmasterProcessId(cluster.ClusterDirectory));
        Assert.True(cluster.OwnsServer);
    }

    private static async Task<int> QueryThroughThePoolAsync(InvisibleServer server)
    {
        var dataSource = server.Services.GetRequiredService<NpgsqlDataSource>();
        await using var command = dataSource.CreateCommand("select 1");
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static int PostmasterProcessId(string clusterDirectory) =>
        int.Parse(File.ReadLines(Path.Combine(clusterDirectory, "postmaster.pid")).First());

    private async Task<(HttpStatusCode Status, JsonElement Body)> PollAsync(string path, Func<JsonElement, bool> until)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var answer = await GetAsync(path);
            if (until(answer.Body))
            {
                return answer;
            }

            Assert.True(deadline.Elapsed < BoundedWait, $"{path} still answers {(int)answer.Status} {answer.Body} after {BoundedWait.TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path)
    {
        using var response = await supervised.Http.GetAsync(path);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }
}

public sealed class AdoptedClusterTests
{
    [Fact]
    public async Task A_cluster_left_by_a_killed_up_is_adopted_by_the_next_server_and_stopped_when_it_stops()
    {
        using var directory = new TemporaryDirectory("invisible-adopt-");
        await TestPostgres.PrepareDataDirectoryAsync(directory.Path);
        using var killedUp = await ForeignClusterOwner.StartAsync(directory.Path);
        killedUp.Kill();

        var server = await InvisibleServer.StartAsync(
            [$"--Server:DataDirectory={directory.Path}", "--Server:HttpPort=0", "--Server:GrpcPort=0"], configure: null, CancellationToken.None);
        try
        {
            Assert.True(server.Database.Cluster!.OwnsServer);
            Assert.Equal(killedUp.Port, server.Database.Cluster.Port);
            using var http = new HttpClient { BaseAddress = new Uri(server.Endpoints.Http) };
            using var ready = await http.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(IsAlive(killedUp.PostmasterId), $"the adopted postmaster {killedUp.PostmasterId} is still running");
    }

    /// <summary>Alive and not a zombie (an exited postmaster re-parented to init may wait a while to be reaped).</summary>
    private static bool IsAlive(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            return stat[(stat.LastIndexOf(')') + 1)..].TrimStart()[0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
