using Invisible.Platform.Blobs;
using Invisible.Platform.Dapr;
using Invisible.Platform.Email;
using Invisible.Platform.Embedded;
using Invisible.Platform.Events;
using Invisible.Platform.Secrets;
using Invisible.Platform.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Invisible.Platform.Tests;

/// <summary><c>Runtime:Mode</c> alone decides which adapter stands behind each building block.</summary>
public sealed class PlatformRegistrationTests
{
    [Fact]
    public void Embedded_mode_is_the_default_and_keeps_everything_in_the_data_directory_and_postgresql()
    {
        using var services = Build([]);

        Assert.IsType<InProcessEventBus>(services.GetRequiredService<IEventBus>());
        Assert.IsType<PostgresStateStore>(services.GetRequiredService<IStateStore>());
        Assert.IsType<FileSecretStore>(services.GetRequiredService<ISecretStore>());
        Assert.IsType<FileSystemBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.IsType<EmlFileEmailSender>(services.GetRequiredService<IEmailSender>());
    }

    [Fact]
    public void Embedded_mode_with_an_smtp_host_sends_e_mail_through_it()
    {
        using var services = Build(new() { ["Email:Smtp:Host"] = "smtp.example.com" });

        Assert.IsType<SmtpEmailSender>(services.GetRequiredService<IEmailSender>());
    }

    [Fact]
    public void Dapr_mode_puts_a_sidecar_adapter_behind_every_building_block()
    {
        using var services = Build(new() { ["Runtime:Mode"] = "dapr", ["DAPR_API_TOKEN"] = "a-sidecar-token-for-tests", ["APP_API_TOKEN"] = "an-app-token-for-tests" });

        Assert.IsType<DaprEventBus>(services.GetRequiredService<IEventBus>());
        Assert.IsType<DaprStateStore>(services.GetRequiredService<IStateStore>());
        Assert.IsType<DaprSecretStore>(services.GetRequiredService<ISecretStore>());
        Assert.IsType<DaprBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.IsType<DaprEmailSender>(services.GetRequiredService<IEmailSender>());
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void The_outbox_clean_up_runs_exactly_where_the_dispatcher_runs(string? dispatcherEnabled, bool expected)
    {
        using var services = Build(dispatcherEnabled is null ? [] : new() { ["Events:DispatcherEnabled"] = dispatcherEnabled });
        var hosted = services.GetServices<IHostedService>().ToList();

        Assert.Equal(expected, hosted.OfType<OutboxDispatcher>().Any());
        Assert.Equal(expected, hosted.OfType<OutboxRetention>().Any());
    }

    [Fact]
    public void An_unknown_mode_is_refused_at_registration()
    {
        Assert.Throws<InvalidOperationException>(() => Build(new() { ["Runtime:Mode"] = "kubernetes" }));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();

        // Resolving adapters opens no connection; the data source only has to exist.
        services.AddSingleton(NpgsqlDataSource.Create("Host=127.0.0.1;Database=unused"));
        services.AddPlatform(configuration);
        return services.BuildServiceProvider();
    }
}
