using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;

namespace Invisible.Server.Tests;

public sealed class GrpcHealthTests(RunningServer running) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task Grpc_health_check_reports_serving_over_h2c_when_the_database_is_ready()
    {
        using var channel = GrpcChannel.ForAddress(running.Server.Endpoints.Grpc);

        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Grpc_web_reaches_the_same_health_service_on_the_http_port()
    {
        using var channel = GrpcChannel.ForAddress(running.Server.Endpoints.Http, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = new Version(1, 1),
        });

        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }
}
