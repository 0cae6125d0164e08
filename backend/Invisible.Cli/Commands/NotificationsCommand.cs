using System.CommandLine;
using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Email;
using Invisible.Platform.Embedded;
using Invisible.Platform.Secrets;
using Invisible.Server.FieldEncryption;
using Invisible.Server.Hosting;
using Invisible.Server.Notifications;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible notifications digest</c>: sends a tenant's daily digest now (the worker sends it daily at Notifications:DigestHour).</summary>
internal static class NotificationsCommand
{
    public const int UsageError = 2;

    public static Command Create()
    {
        var day = new Option<DateOnly?>("--day")
        {
            Description = "The day (YYYY-MM-DD) the digest is for; today (UTC) when left out. A person gets one digest per day: running it again sends nothing new.",
            HelpName = "DAY",
        };
        var digest = new Command(
            "digest",
            "Send the tenant's daily digest now: one e-mail per person listing the exceptions assigned to them and the approvals waiting " +
            "for them, to those who keep the digest on (Settings → Your account → Notifications). Nobody is sent the same day's digest " +
            "twice, whether by this command or by the worker's daily run at Notifications:DigestHour (UTC). Embedded mode writes the " +
            $"e-mails as .eml files under the data directory's mail/ folder unless Email:Smtp:Host is set. Exit codes: 0 done, {UsageError} unknown tenant.")
        {
            CommonOptions.Tenant, day,
        };
        digest.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await ReconcileCommand.FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, dataDirectory, cancellationToken);
            if (tenant is null)
            {
                return UsageError;
            }

            await using var services = NotificationServices(product, dataDirectory);
            var summary = await services.GetRequiredService<DailyDigest>().RunAsync(tenant.Id, parse.GetValue(day), cancellationToken);
            AnsiConsole.MarkupLine(
                $"Daily digest of tenant [bold]{Markup.Escape(tenant.Slug)}[/]: {summary.Sent} sent, {summary.AlreadySent} already sent today, " +
                $"{summary.NothingWaiting} with nothing waiting ({summary.People} active people).");
            return 0;
        });

        return new Command("notifications", "What people are told by e-mail: send the daily digest on demand.") { digest };
    }

    // The product's database with the e-mail path beside it, as the embedded server sends: .eml files, or SMTP when configured.
    private static ServiceProvider NotificationServices(LocalProduct product, string dataDirectory)
    {
        var configuration = product.Services.GetRequiredService<IConfiguration>();
        var services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddSingleton(product.Services.GetRequiredService<ILoggerFactory>())
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddSingleton(product.Services.GetRequiredService<TenantDatabase>())
            .AddSingleton(product.Services.GetRequiredService<PersonalDataKeys>())
            .AddSingleton<ISecretStore>(provider => new FileSecretStore(
                Options.Create(new RuntimeOptions { DataDirectory = dataDirectory }), provider.GetRequiredService<ILogger<FileSecretStore>>()));
        services.AddOptions<RuntimeOptions>().Configure(runtime => runtime.DataDirectory = dataDirectory);
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.SectionName);
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section);
        if (string.IsNullOrEmpty(configuration.GetSection(EmailOptions.SectionName).Get<EmailOptions>()?.Smtp.Host))
        {
            services.AddSingleton<IEmailSender, EmlFileEmailSender>();
        }
        else
        {
            services.AddSingleton<IEmailSender, SmtpEmailSender>();
        }

        services.AddNotificationsCore();
        return services.BuildServiceProvider();
    }
}
