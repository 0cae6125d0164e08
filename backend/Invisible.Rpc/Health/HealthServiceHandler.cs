using Grpc.Health.V1;
using Invisible.Rpc.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Invisible.Rpc.Health;

/// <summary>
/// grpc.health.v1.Health over the application's readiness checks: SERVING while no check tagged
/// <see cref="RpcOptions.ReadinessTag"/> is unhealthy. "" means the whole server; any served service has the same status.
/// </summary>
internal sealed class HealthServiceHandler(HealthCheckService healthChecks, RpcServiceRegistry registry, IOptions<RpcOptions> options)
{
    public async Task<HealthCheckResponse> Check(HealthCheckRequest request, RpcCallContext context)
    {
        if (!IsKnown(request.Service))
        {
            throw new RpcException(StatusCode.NotFound, $"Service '{request.Service}' is not served here.");
        }

        return new HealthCheckResponse { Status = await ReadinessAsync(context.CancellationToken) };
    }

    /// <summary>Sends the current status, then each change, until the client goes away.</summary>
    public async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> stream, RpcCallContext context)
    {
        using var timer = new PeriodicTimer(options.Value.HealthWatchInterval);
        ServingStatus? lastSent = null;
        do
        {
            var status = IsKnown(request.Service) ? await ReadinessAsync(context.CancellationToken) : ServingStatus.ServiceUnknown;
            if (status != lastSent)
            {
                await stream.WriteAsync(new HealthCheckResponse { Status = status }, context.CancellationToken);
                lastSent = status;
            }
        }
        while (await timer.WaitForNextTickAsync(context.CancellationToken));
    }

    private bool IsKnown(string service) => service.Length == 0 || registry.ServiceNames.Contains(service);

    private async Task<ServingStatus> ReadinessAsync(CancellationToken cancellationToken)
    {
        var tag = options.Value.ReadinessTag;
        var report = await healthChecks.CheckHealthAsync(check => check.Tags.Contains(tag), cancellationToken);
        return report.Status == HealthStatus.Unhealthy ? ServingStatus.NotServing : ServingStatus.Serving;
    }
}
