using System.Net;
using System.Text.Json;
using Invisible.Data.Embedded;
using Microsoft.Extensions.Logging.Abstractions;

namespace Invisible.Server.Tests;

public sealed class ReadinessTests(RunningServer running) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task Readyz_follows_the_database_down_and_back_up_without_restarting_the_server()
    {
        var cluster = running.Server.Database.Cluster!;
        Assert.Equal("ready", await ReadinessAsync(HttpStatusCode.OK));

        await cluster.StopAsync(CancellationToken.None);
        Assert.Equal("unready", await ReadinessAsync(HttpStatusCode.ServiceUnavailable));

        await using var restarted = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = running.DataDirectory, Port = cluster.Port }, NullLogger.Instance, CancellationToken.None);
        Assert.Equal("ready", await ReadinessAsync(HttpStatusCode.OK));
    }

    [Fact]
    public async Task Endpoints_file_disappears_when_the_server_stops()
    {
        using var directory = new Invisible.Testing.TemporaryDirectory("invisible-server-stop-");
        var server = await Hosting.InvisibleServer.StartAsync(
            [$"--Server:DataDirectory={directory.Path}", "--Server:HttpPort=0", "--Server:GrpcPort=0"], configure: null, CancellationToken.None);
        Assert.True(File.Exists(Hosting.ServerEndpoints.PathIn(directory.Path)));

        await server.DisposeAsync();

        Assert.False(File.Exists(Hosting.ServerEndpoints.PathIn(directory.Path)));
    }

    /// <summary>/readyz once the background probe has seen the change (it runs every 200 ms here).</summary>
    private async Task<string?> ReadinessAsync(HttpStatusCode expected)
    {
        var (status, body) = await ReadyzAsync(running.Http, expected);
        Assert.True(expected == status, $"/readyz answered {(int)status}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("status").GetString();
    }

    internal static async Task<(HttpStatusCode Status, string Body)> ReadyzAsync(HttpClient http, HttpStatusCode expected)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await http.GetAsync("/readyz");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == expected || attempt == 100)
            {
                return (response.StatusCode, body);
            }

            await Task.Delay(100);
        }
    }
}

public sealed class ReadinessProbeTests
{
    [Fact]
    public async Task Readyz_and_grpc_health_answer_from_the_background_probe_not_from_a_connection_per_request()
    {
        using var directory = new Invisible.Testing.TemporaryDirectory("invisible-readiness-probe-");
        await using var server = await Hosting.InvisibleServer.StartAsync(
            [$"--Server:DataDirectory={directory.Path}", "--Server:HttpPort=0", "--Server:GrpcPort=0", "--Rpc:ReadinessProbeInterval=01:00:00"],
            configure: null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(server.Endpoints.Http) };
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(server.Endpoints.Grpc);
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        (await http.GetAsync("/readyz")).Dispose();

        // With the database gone, any request that asked it would be told so; the probe's next turn is an hour away.
        await server.Database.Cluster!.StopAsync(CancellationToken.None);
        var answers = new List<string>();
        for (var request = 0; request < 20; request++)
        {
            using var response = await http.GetAsync("/readyz");
            answers.Add($"readyz {(int)response.StatusCode}");
            var grpc = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
            answers.Add($"grpc {grpc.Status}");
        }

        Assert.Equal(["readyz 200", "grpc Serving"], answers.Distinct());
    }
}
