using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>The platform's services in dapr mode, configured the way <c>dapr run</c> configures a process, pointed at a sidecar.</summary>
internal static class DaprTestServices
{
    public const string AppApiToken = "token-the-sidecar-sends-for-tests";

    public static ServiceProvider For(StandInDaprSidecar sidecar, IDictionary<string, string?>? overrides = null) =>
        For(sidecar.HttpPort, sidecar.GrpcPort, sidecar.ApiToken, overrides);

    public static ServiceProvider For(int httpPort, int grpcPort, string? apiToken, IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Runtime:Mode"] = "dapr",
            ["DAPR_HTTP_PORT"] = httpPort.ToString(),
            ["DAPR_GRPC_PORT"] = grpcPort.ToString(),
            ["DAPR_API_TOKEN"] = apiToken,
            ["APP_API_TOKEN"] = AppApiToken,
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
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = true });
    }
}
