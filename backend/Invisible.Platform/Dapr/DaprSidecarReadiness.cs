using System.Text.Json;
using Dapr.Client;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// Holds start-up until the sidecar's components are ready (<see cref="DaprClient.CheckOutboundHealthAsync"/>), so the
/// first publish or state call does not fail; gives up after <see cref="DaprOptions.SidecarStartupTimeout"/> with an
/// error that says where it looked. Then refuses to go on while the secret store still serves a development value of
/// <c>components/secrets.json</c>, naming each.
/// </summary>
public sealed class DaprSidecarReadiness(DaprClient dapr, ISecretStore secrets, IOptions<DaprOptions> options, ILogger<DaprSidecarReadiness> logger)
    : IHostedService
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await WaitForSidecarAsync(cancellationToken);
        await RefuseDevelopmentSecretsAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WaitForSidecarAsync(CancellationToken cancellationToken)
    {
        var sidecar = options.Value;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(sidecar.SidecarStartupTimeout);
        try
        {
            while (!await dapr.CheckOutboundHealthAsync(deadline.Token))
            {
                await Task.Delay(ProbeInterval, deadline.Token);
            }

            logger.LogInformation("Dapr sidecar at {HttpAddress} (gRPC {GrpcAddress}) is ready", sidecar.SidecarHttpAddress, sidecar.SidecarGrpcAddress);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"The Dapr sidecar at {sidecar.SidecarHttpAddress} (gRPC {sidecar.SidecarGrpcAddress}) did not report its components healthy " +
                $"within {sidecar.SidecarStartupTimeout.TotalSeconds:0} s. Start the app with `dapr run` (or beside a daprd container) and check " +
                "DAPR_HTTP_PORT, DAPR_GRPC_PORT and DAPR_API_TOKEN, or run with Runtime:Mode=embedded.");
        }
    }

    private async Task RefuseDevelopmentSecretsAsync(CancellationToken cancellationToken)
    {
        var stillDevelopment = new List<string>();
        foreach (var (name, developmentValue) in DevelopmentSecrets.Values)
        {
            string value;
            try
            {
                value = await secrets.GetSecretAsync(name, cancellationToken);
            }
            catch (SecretNotFoundException)
            {
                // Not every deployment needs every secret (no QuickBooks, no SMTP password); absent is not a development value.
                continue;
            }
            catch (global::Dapr.DaprException e) when (DaprErrors.Status(e) is Grpc.Core.StatusCode.PermissionDenied)
            {
                // A secret scoped away from this app (the components' own, such as redis-password) cannot be compared here.
                logger.LogDebug("Secret {Name} is not readable by this app; not checked for a development value", name);
                continue;
            }

            if (value == developmentValue)
            {
                stillDevelopment.Add(name);
            }
        }

        if (stillDevelopment.Count > 0)
        {
            throw new InvalidOperationException(
                $"The Dapr secret store '{DaprComponents.SecretStore}' serves the development value of components/secrets.json for: " +
                $"{string.Join(", ", stillDevelopment)}. Put generated values in the store dapr mode runs with (README, \"Running with Dapr\").");
        }
    }
}

/// <summary>The development values shipped in <c>components/secrets.json</c>, embedded at build time so a deployment cannot pass them off as its own.</summary>
public static class DevelopmentSecrets
{
    public const string ResourceName = "Invisible.Platform.Dapr.DevelopmentSecrets.json";

    public static IReadOnlyDictionary<string, string> Values { get; } = Load();

    private static Dictionary<string, string> Load()
    {
        using var stream = typeof(DevelopmentSecrets).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        return JsonSerializer.Deserialize<Dictionary<string, string>>(stream) ?? [];
    }
}
