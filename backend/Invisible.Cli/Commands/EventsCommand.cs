using System.CommandLine;
using System.Globalization;
using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using Invisible.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary>Events that exhausted their delivery attempts: list them, and send them again once the cause is fixed.</summary>
internal static class EventsCommand
{
    public static Command Create()
    {
        var limit = new Option<int>("--limit") { Description = "How many to list, newest first.", DefaultValueFactory = _ => 50, HelpName = "N" };
        var list = new Command("dead-letters", "List events that could not be delivered after every retry, with their last error.")
        {
            CommonOptions.Tenant, limit,
        };
        list.SetAction(async (parse, cancellationToken) =>
        {
            await using var product = await LocalProduct.OpenAsync(
                parse.GetValue(CommonOptions.DataDirectory)!.FullName, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, cancellationToken);
            if (tenant is null)
            {
                return 1;
            }

            var deadLetters = await DeadLettersOf(product).ListAsync(tenant.Id, parse.GetValue(limit), cancellationToken);
            if (deadLetters.Count == 0)
            {
                AnsiConsole.MarkupLine($"No dead letters for tenant [bold]{Markup.Escape(tenant.Slug)}[/].");
                return 0;
            }

            var table = new Table().AddColumns("id", "topic", "occurred", "attempts", "dead since", "last error");
            foreach (var letter in deadLetters)
            {
                table.AddRow(
                    letter.Id.ToString(),
                    Markup.Escape(letter.Topic),
                    letter.OccurredAt.ToString("u", CultureInfo.InvariantCulture),
                    letter.Attempts.ToString(CultureInfo.InvariantCulture),
                    letter.DeadLetteredAt.ToString("u", CultureInfo.InvariantCulture),
                    Markup.Escape(letter.LastError ?? ""));
            }

            AnsiConsole.Write(table);
            return 0;
        });

        var ids = new Option<Guid[]>("--id") { Description = "A dead letter to send again (repeatable).", AllowMultipleArgumentsPerToken = true, HelpName = "ID" };
        var all = new Option<bool>("--all") { Description = "Send every dead letter of the tenant again." };
        var redrive = new Command("redrive", "Put dead letters back into the outbox; the dispatcher (of `up` or a worker) delivers them. Subscribers that already handled an event do not handle it twice.")
        {
            CommonOptions.Tenant, ids, all,
        };
        redrive.SetAction(async (parse, cancellationToken) =>
        {
            var chosen = parse.GetValue(ids) ?? [];
            if (chosen.Length == 0 == !parse.GetValue(all))
            {
                await Console.Error.WriteLineAsync("Name the dead letters to send again with --id ID (repeatable), or use --all.");
                return 2;
            }

            await using var product = await LocalProduct.OpenAsync(
                parse.GetValue(CommonOptions.DataDirectory)!.FullName, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, cancellationToken);
            if (tenant is null)
            {
                return 1;
            }

            var deadLetters = DeadLettersOf(product);
            var count = parse.GetValue(all)
                ? await deadLetters.RedriveAllAsync(tenant.Id, cancellationToken)
                : await deadLetters.RedriveAsync(tenant.Id, chosen, cancellationToken);
            AnsiConsole.MarkupLine($"{count} event(s) of tenant [bold]{Markup.Escape(tenant.Slug)}[/] are back in the outbox.");
            return chosen.Length > count ? 1 : 0;
        });

        return new Command("events", "Inspect and re-drive events that could not be delivered.") { list, redrive };
    }

    private static DeadLetters DeadLettersOf(LocalProduct product) => new(product.Services.GetRequiredService<TenantDatabase>());

    private static async Task<TenantRecord?> FindTenantAsync(LocalProduct product, string slug, CancellationToken cancellationToken)
    {
        var tenant = await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, cancellationToken);
        if (tenant is null)
        {
            await Console.Error.WriteLineAsync($"No tenant '{slug}' in this data directory. `invisible tenant create {slug}` creates it.");
        }

        return tenant;
    }
}
