using Grpc.Health.V1;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.GrpcWireClient;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Invisible.Rpc.Tests;

/// <summary>grpc.health.v1.Health reports readiness (the health checks tagged "ready").</summary>
[Collection(RpcServerCollection.Name)]
public sealed class HealthTests(RpcTestServer server) : IDisposable
{
    public void Dispose() => server.Readiness.IsReady = true;

    private Task<GrpcResult> CheckAsync(string service) =>
        SendAsync(server.Http2, Request(server.Http2, server.GrpcUri("/grpc.health.v1.Health/Check"), GrpcContentType, Frame(new HealthCheckRequest { Service = service })));

    [Fact]
    public async Task Check_follows_readiness_for_the_server_and_for_each_served_service()
    {
        var ready = await CheckAsync(string.Empty);
        var readyService = await CheckAsync("invisible.rpctest.v1.ProbeService");
        server.Readiness.IsReady = false;
        var notReady = await CheckAsync(string.Empty);

        Assert.Equal(ServingStatus.Serving, Assert.Single(ready.Messages).As(HealthCheckResponse.Parser).Status);
        Assert.Equal(ServingStatus.Serving, Assert.Single(readyService.Messages).As(HealthCheckResponse.Parser).Status);
        Assert.Equal(ServingStatus.NotServing, Assert.Single(notReady.Messages).As(HealthCheckResponse.Parser).Status);
    }

    [Fact]
    public async Task Check_of_a_service_not_served_is_NOT_FOUND()
    {
        var result = await CheckAsync("no.such.Service");

        Assert.Equal(StatusCode.NotFound, result.StatusCode);
    }

    [Fact]
    public async Task Watch_sends_the_current_status_then_each_change()
    {
        using var request = Request(server.Http2, server.GrpcUri("/grpc.health.v1.Health/Watch"), GrpcContentType, Frame(new HealthCheckRequest()));
        using var response = await server.Http2.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();

        var first = await ReadStatusAsync(body);
        server.Readiness.IsReady = false;
        var second = await ReadStatusAsync(body);
        server.Readiness.IsReady = true;
        var third = await ReadStatusAsync(body);

        Assert.Equal([ServingStatus.Serving, ServingStatus.NotServing, ServingStatus.Serving], [first, second, third]);
    }

    private static async Task<ServingStatus> ReadStatusAsync(Stream body)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var header = new byte[5];
        await body.ReadExactlyAsync(header, timeout.Token);
        var payload = new byte[header[4]];
        await body.ReadExactlyAsync(payload, timeout.Token);
        return HealthCheckResponse.Parser.ParseFrom(payload).Status;
    }
}
