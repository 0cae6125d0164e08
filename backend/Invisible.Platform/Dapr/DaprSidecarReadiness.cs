using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// Holds start-up until the sidecar's components are ready (<c>GET /v1.0/healthz/outbound</c> answers 204), so the
/// first publish or state call does not fail; gives up after <see cref="DaprOptions.SidecarStartupTimeout"/> with an
/// error that says where it looked.
/// </summary>
public sealed class DaprSidecarReadiness(DaprSidecarClient sidecar, IOptions<DaprOptions> options, ILogger<DaprSidecarReadiness> logger) : IHostedService
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var timeout = options.Value.SidecarStartupTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var lastProblem = "no answer yet";
        try
        {
            while (true)
            {
                try
                {
                    using var response = await sidecar.SendOnceAsync(new HttpRequestMessage(HttpMethod.Get, "v1.0/healthz/outbound"), deadline.Token);
                    if (response.StatusCode == HttpStatusCode.NoContent)
                    {
                        logger.LogInformation("Dapr sidecar at {Address} is ready", sidecar.SidecarAddress);
                        return;
                    }

                    lastProblem = $"answered {(int)response.StatusCode} {response.ReasonPhrase}";
                }
                catch (HttpRequestException e)
                {
                    lastProblem = e.Message;
                }

                await Task.Delay(ProbeInterval, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"The Dapr sidecar at {sidecar.SidecarAddress} was not ready within {timeout.TotalSeconds:0} s (last: {lastProblem}). " +
                "Start the app with `dapr run` (or beside a daprd container) and check DAPR_HTTP_PORT, or run with Runtime:Mode=embedded.");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
