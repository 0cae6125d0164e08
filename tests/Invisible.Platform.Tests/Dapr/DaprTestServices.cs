using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>The platform's services in dapr mode, configured the way <c>dapr run</c> configures a process, pointed at a sidecar.</summary>
internal static class DaprTestServices
{
    public static ServiceProvider For(StandInDaprSidecar sidecar, IDictionary<string, string?>? overrides = null) =>
        For(sidecar.Port, sidecar.ApiToken, overrides);

    public static ServiceProvider For(int sidecarPort, string? apiToken, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configure = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Runtime:Mode"] = "dapr",
            ["DAPR_HTTP_PORT"] = sidecarPort.ToString(),
            ["DAPR_API_TOKEN"] = apiToken,
            ["Dapr:RetryBaseDelay"] = "00:00:00.010",
            ["Dapr:BlobStoreRootPath"] = StandInDaprSidecar.BlobRootPath,
            ["Events:DispatcherEnabled"] = "false",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddPlatform(configuration);
        configure?.Invoke(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = true });
    }
}
