using System.CommandLine;
using Invisible.Data.Tenancy;
using Microsoft.Extensions.DependencyInjection;
using Invisible.Server.Hosting;
using Invisible.Server.Tenancy;
using Spectre.Console;

namespace Invisible.Cli.Commands;

internal static class TenantCommand
{
    public static Command Create()
    {
        var slug = new Argument<string>("SLUG") { Description = "Short name of the tenant: lower-case letters, digits and hyphens (e.g. acme-gmbh)." };
        var name = new Option<string?>("--name") { Description = "Display name (default: the slug).", HelpName = "NAME" };
        var currency = new Option<string>("--currency") { Description = "Default currency, ISO 4217.", DefaultValueFactory = _ => "USD", HelpName = "CODE" };
        var adminEmail = new Option<string?>("--admin-email") { Description = "The first administrator's e-mail (default: admin@SLUG.invisible.local).", HelpName = "EMAIL" };

        var create = new Command("create", "Create a tenant and print its administrator's one-time sign-in.") { slug, name, currency, adminEmail };
        create.SetAction(async (parse, cancellationToken) =>
        {
            var tenant = parse.GetValue(slug)!;
            await using var product = await LocalProduct.OpenAsync(
                parse.GetValue(CommonOptions.DataDirectory)!.FullName, CommonOptions.Logging(parse), cancellationToken);
            var onboarding = ActivatorUtilities.CreateInstance<TenantOnboarding>(product.Services);
            try
            {
                var login = await onboarding.CreateAsync(
                    tenant,
                    parse.GetValue(name) ?? tenant,
                    parse.GetValue(currency)!,
                    parse.GetValue(adminEmail) ?? $"admin@{tenant}.invisible.local",
                    TenantOnboarding.OperatorActor,
                    cancellationToken);
                AnsiConsole.MarkupLine($"Tenant [bold]{Markup.Escape(login.TenantSlug)}[/] created.");
                AnsiConsole.MarkupLine($"Administrator: [bold]{Markup.Escape(login.Email)}[/]  password: [bold]{Markup.Escape(login.Password)}[/]  (shown once; stored only hashed)");
                return 0;
            }
            catch (Exception exception) when (exception is DuplicateTenantSlugException or ArgumentException)
            {
                await Console.Error.WriteLineAsync(exception.Message);
                return 1;
            }
        });

        return new Command("tenant", "Manage tenants.") { create };
    }
}
