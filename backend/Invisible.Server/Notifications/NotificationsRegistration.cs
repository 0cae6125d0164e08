using Invisible.Platform.Events;
using Invisible.Server.Exceptions;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.QuickBooks;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Notifications;

public static class NotificationsRegistration
{
    /// <summary>
    /// Notifications: the outbox subscribers that tell people of events (e-mail and in-app), the daily digest (scheduled
    /// outside the API-only role) and <c>invisible.notifications.v1.NotificationService</c>.
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, ServerRole role)
    {
        services.AddNotificationsCore();
        services.AddIntegrationEventHandler<ExceptionAssigned, NotificationHandlers>("notify-exception-assigned");
        services.AddIntegrationEventHandler<ApprovalWaiting, NotificationHandlers>("notify-approval-waiting");
        services.AddIntegrationEventHandler<ImportRejected, NotificationHandlers>("notify-import-rejected");
        services.AddIntegrationEventHandler<QuickBooksExportFailed, NotificationHandlers>("notify-quickbooks-export-failed");
        if (role != ServerRole.Api)
        {
            services.AddHostedService<DailyDigestSchedule>();
        }

        return services;
    }

    /// <summary>What sending notifications and digests needs, without subscribers or hosted work: also for <c>invisible notifications</c>.</summary>
    public static IServiceCollection AddNotificationsCore(this IServiceCollection services)
    {
        services.AddOptions<NotificationsOptions>().BindConfiguration(NotificationsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<UnsubscribeTokens>();
        services.TryAddSingleton<Hosting.PublicLinks>();
        services.TryAddSingleton<Notifier>();
        services.TryAddSingleton<DailyDigest>();
        return services;
    }

    public static IEndpointRouteBuilder MapNotifications(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<NotificationServiceHandler>();
        return endpoints;
    }
}
