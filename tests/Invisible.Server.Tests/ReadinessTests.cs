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

    private async Task<string?> ReadinessAsync(HttpStatusCode expected)
    {
        using var response = await running.Http.GetAsync("/readyz");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"/readyz answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("status").GetString();
    }
}
