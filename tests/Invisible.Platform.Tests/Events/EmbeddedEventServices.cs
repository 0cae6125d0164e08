using Invisible.Platform.Events;
using Invisible.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Invisible.Platform.Tests.Events;

/// <summary>The platform in embedded mode on a test database, with <see cref="EffectCountingHandler"/> subscribed.</summary>
internal static class EmbeddedEventServices
{
    public static ServiceProvider For(TestDatabase database, HandlerSwitch handlerSwitch, int maxAttempts = 3) =>
        For(database.AppDataSource, handlerSwitch, maxAttempts);

    /// <param name="pollInterval">How often the dispatcher looks at every tenant without being notified; 200 ms unless given.</param>
    public static ServiceProvider For(NpgsqlDataSource appDataSource, HandlerSwitch handlerSwitch, int maxAttempts = 3, TimeSpan? pollInterval = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Runtime:Mode"] = "embedded",
            ["Runtime:DataDirectory"] = Path.Combine(Path.GetTempPath(), "invisible-platform-tests", Guid.NewGuid().ToString("N")),
            ["Events:MaxAttempts"] = maxAttempts.ToString(),
            ["Events:RetryBaseDelay"] = "00:00:00.020",
            ["Events:MaxRetryDelay"] = "00:00:00.100",
            ["Events:PollInterval"] = (pollInterval ?? TimeSpan.FromMilliseconds(200)).ToString("c"),
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSingleton(appDataSource);
        services.AddSingleton(handlerSwitch);
        services.AddPlatform(configuration);
        services.AddIntegrationEventHandler<ReceiptPosted, EffectCountingHandler>();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }
}
