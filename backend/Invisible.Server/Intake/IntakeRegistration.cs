using Invisible.Server.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Intake;

public static class IntakeRegistration
{
    /// <summary>
    /// E-mail intake: reading and recording messages, the gRPC <c>invisible.intake.v1.IntakeService</c>, and the SMTP
    /// listener and the polling of connected IMAP mailboxes in the processes that serve the API (a worker runs them only
    /// when <c>Email:Intake:Enabled</c> / <c>Email:Intake:Imap:Enabled</c> say so).
    /// </summary>
    public static IServiceCollection AddEmailIntake(this IServiceCollection services, IConfiguration configuration, ServerRole role)
    {
        services.AddOptions<EmailIntakeOptions>().BindConfiguration(EmailIntakeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IntakeRecipients>();
        services.TryAddSingleton<IntakeReplies>();
        services.TryAddSingleton<EmailIntake>();
        services.TryAddSingleton<IntakeQueries>();
        var enabled = configuration.GetSection(EmailIntakeOptions.Section).GetValue<bool?>(nameof(EmailIntakeOptions.Enabled));
        if (enabled ?? role != ServerRole.Worker)
        {
            services.TryAddSingleton<SmtpIntakeListener>();
            services.AddHostedService(provider => provider.GetRequiredService<SmtpIntakeListener>());
        }

        services.AddOptions<MailboxPollingOptions>().BindConfiguration(MailboxPollingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<MailboxPoller>();
        services.TryAddSingleton<MailboxSignals>();
        services.TryAddSingleton<MailboxConnections>();
        var polling = configuration.GetSection(MailboxPollingOptions.Section).GetValue<bool?>(nameof(MailboxPollingOptions.Enabled));
        if (polling ?? enabled ?? role != ServerRole.Worker)
        {
            services.AddHostedService<MailboxPolling>();
        }

        return services;
    }

    public static IEndpointRouteBuilder MapEmailIntake(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<IntakeServiceHandler>();
        return endpoints;
    }
}
