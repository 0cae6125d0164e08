using Invisible.Data.Tenancy;
using Invisible.Platform.Blobs;
using Invisible.Platform.Dapr;
using Invisible.Platform.Email;
using Invisible.Platform.Embedded;
using Invisible.Platform.Events;
using Invisible.Platform.Secrets;
using Invisible.Platform.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Invisible.Platform;

public static class PlatformServiceCollectionExtensions
{
    /// <summary>
    /// Registers the building blocks (events, state, secrets, blob storage, e-mail) with the adapters of
    /// <c>Runtime:Mode</c>: <c>embedded</c> (default) or <c>dapr</c>. Expects an <see cref="Npgsql.NpgsqlDataSource"/>
    /// from the data layer (outbox, inbox, dead letters and embedded state live in PostgreSQL in both modes).
    /// </summary>
    public static IServiceCollection AddPlatform(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RuntimeOptions>().BindConfiguration(RuntimeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<TenantDatabase>();
        services.TryAddSingleton<EventSubscriptions>();
        services.TryAddSingleton<EventDelivery>();
        services.TryAddSingleton<DeadLetters>();
        services.TryAddSingleton<OutboxDispatcher>();
        services.TryAddSingleton<OutboxRetention>();

        // The mode decides which types exist at all, so it is read now rather than through IOptions later.
        var mode = configuration.GetSection(RuntimeOptions.SectionName).Get<RuntimeOptions>()?.Mode ?? RuntimeMode.Embedded;
        if (mode == RuntimeMode.Dapr)
        {
            AddDaprAdapters(services);
        }
        else
        {
            AddEmbeddedAdapters(services, configuration);
        }

        // Registered after the sidecar wait, so the dispatcher does not publish before the sidecar is ready.
        if (EventsOptions.DispatcherEnabledIn(configuration))
        {
            services.AddHostedService(provider => provider.GetRequiredService<OutboxDispatcher>());
            services.AddHostedService(provider => provider.GetRequiredService<OutboxRetention>());
        }

        return services;
    }

    private static void AddEmbeddedAdapters(IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<IEventBus, InProcessEventBus>();
        services.TryAddSingleton<IStateStore, PostgresStateStore>();
        services.TryAddSingleton<ISecretStore, FileSecretStore>();
        services.TryAddSingleton<IBlobStore, FileSystemBlobStore>();
        if (string.IsNullOrEmpty(configuration.GetSection(EmailOptions.SectionName).Get<EmailOptions>()?.Smtp.Host))
        {
            services.TryAddSingleton<IEmailSender, EmlFileEmailSender>();
        }
        else
        {
            services.TryAddSingleton<IEmailSender, SmtpEmailSender>();
        }
    }

    private static void AddDaprAdapters(IServiceCollection services)
    {
        services.AddOptions<DaprOptions>()
            .BindConfiguration(DaprOptions.SectionName)
            .PostConfigure<IConfiguration>(ApplySidecarEnvironment)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DaprOptions>, DaprTokenValidation>());

        // The SDK would read DAPR_* itself; configuring it from DaprOptions keeps one source for the adapters and the tests.
        services.AddDaprClient((provider, builder) =>
        {
            var dapr = provider.GetRequiredService<IOptions<DaprOptions>>().Value;
            builder.UseHttpEndpoint(dapr.SidecarHttpAddress.ToString()).UseGrpcEndpoint(dapr.SidecarGrpcAddress.ToString());
            if (!string.IsNullOrEmpty(dapr.ApiToken))
            {
                builder.UseDaprApiToken(dapr.ApiToken);
            }
        });
        services.TryAddSingleton<IEventBus, DaprEventBus>();
        services.TryAddSingleton<IStateStore, DaprStateStore>();
        services.TryAddSingleton<ISecretStore, DaprSecretStore>();
        services.TryAddSingleton<IBlobStore, DaprBlobStore>();
        services.TryAddSingleton<IEmailSender, DaprEmailSender>();
        services.AddHostedService<DaprSidecarReadiness>();
    }

    /// <summary>The variables <c>dapr run</c> and the sidecar injector set win over the configuration file.</summary>
    private static void ApplySidecarEnvironment(DaprOptions options, IConfiguration configuration)
    {
        if (configuration["DAPR_HTTP_PORT"] is { Length: > 0 } port)
        {
            options.HttpPort = int.TryParse(port, out var parsed)
                ? parsed
                : throw new InvalidOperationException($"DAPR_HTTP_PORT '{port}' is not a port number.");
        }

        if (configuration["DAPR_GRPC_PORT"] is { Length: > 0 } grpcPort)
        {
            options.GrpcPort = int.TryParse(grpcPort, out var parsed)
                ? parsed
                : throw new InvalidOperationException($"DAPR_GRPC_PORT '{grpcPort}' is not a port number.");
        }

        if (configuration["DAPR_API_TOKEN"] is { Length: > 0 } apiToken)
        {
            options.ApiToken = apiToken;
        }

        if (configuration["APP_API_TOKEN"] is { Length: > 0 } appApiToken)
        {
            options.AppApiToken = appApiToken;
        }
    }
}
