using Grpc.Core;
using Grpc.Health.V1;
using Invisible.Rpc.Tests.Support;

namespace Invisible.Rpc.Tests;

/// <summary>grpc.health.v1 over the checks tagged "ready", as probes and load balancers call it.</summary>
[Collection(TransportHostCollection.Name)]
public sealed class HealthTests(TransportHost host)
{
    [Fact]
    public async Task Check_reports_SERVING_on_both_ports_while_the_readiness_checks_pass()
    {
        host.Readiness.Ready = true;

        var native = await new Health.HealthClient(host.NativeChannel()).CheckAsync(new HealthCheckRequest());
        var web = await new Health.HealthClient(host.WebChannel()).CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, native.Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, web.Status);
    }

    [Fact]
    public async Task Check_reports_NOT_SERVING_at_once_when_a_readiness_check_fails()
    {
        host.Readiness.Ready = false;
        try
        {
            var response = await new Health.HealthClient(host.NativeChannel()).CheckAsync(new HealthCheckRequest());

            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, response.Status);
        }
        finally
        {
            host.Readiness.Ready = true;
        }
    }

    [Fact]
    public async Task Check_of_an_unknown_service_is_NOT_FOUND()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Health.HealthClient(host.NativeChannel()).CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Watch_streams_the_change_to_NOT_SERVING_and_back()
    {
        host.Readiness.Ready = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var watch = new Health.HealthClient(host.NativeChannel()).Watch(new HealthCheckRequest(), cancellationToken: timeout.Token);
        var stream = watch.ResponseStream;
        try
        {
            await NextStatusAsync(stream, HealthCheckResponse.Types.ServingStatus.Serving, timeout.Token);
            host.Readiness.Ready = false;
            await NextStatusAsync(stream, HealthCheckResponse.Types.ServingStatus.NotServing, timeout.Token);
            host.Readiness.Ready = true;
            await NextStatusAsync(stream, HealthCheckResponse.Types.ServingStatus.Serving, timeout.Token);
        }
        finally
        {
            host.Readiness.Ready = true;
        }
    }

    /// <summary>Reads until <paramref name="expected"/> arrives (the publisher may repeat the previous status first).</summary>
    private static async Task NextStatusAsync(IAsyncStreamReader<HealthCheckResponse> stream, HealthCheckResponse.Types.ServingStatus expected, CancellationToken cancellationToken)
    {
        while (await stream.MoveNext(cancellationToken))
        {
            if (stream.Current.Status == expected)
            {
                return;
            }
        }

        Assert.Fail($"The Watch stream ended before reporting {expected}.");
    }
}
