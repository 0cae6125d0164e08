using System.CommandLine;
using System.Globalization;
using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Platform.Events;
using Invisible.Server.Hosting;
using Invisible.Server.Integrity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible verify [--tenant SLUG]</c>: checks what must always hold of the stored data (<see cref="InvariantChecks"/>).</summary>
internal static class VerifyCommand
{
    public const int UsageError = 2;

    /// <summary>Something that must always hold does not (0 ok, 1 rejected, 2 usage, 3 server refused and 4 could not run are the other verbs').</summary>
    public const int InvariantBroken = 5;

    /// <summary>Violations printed per invariant; the count says how many more there are.</summary>
    private const int ListedViolations = 20;

    public static Command Create()
    {
        var tenant = new Option<string?>("--tenant") { Description = "Check only this tenant (default: every tenant of the data directory).", HelpName = "SLUG" };
        var command = new Command(
            "verify",
            "Check what must always hold of the stored data, whatever crashed when: " + string.Join(", ", InvariantChecks.All.Select(invariant => invariant.Name)) +
            ". Prints one line per invariant (✓ or ✗, with counts) and what broke, with ids. Read-only, as the application role. " +
            $"Exit codes: 0 everything holds, {InvariantBroken} an invariant is broken (named on standard error), {UsageError} unknown tenant.")
        {
            tenant,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var directory = product.Services.GetRequiredService<TenantDirectory>();
            IReadOnlyList<TenantRecord> tenants;
            if (parse.GetValue(tenant) is { } slug)
            {
                var found = await directory.FindBySlugAsync(slug, cancellationToken);
                if (found is null)
                {
                    await Console.Error.WriteLineAsync($"No tenant '{slug}' in {dataDirectory}; without --tenant every tenant there is checked.");
                    return UsageError;
                }

                tenants = [found];
            }
            else
            {
                tenants = await directory.ListAsync(cancellationToken);
            }

            var results = await CreateChecks(product, dataDirectory).CheckAsync(tenants, cancellationToken);
            AnsiConsole.MarkupLine($"Verified {tenants.Count} tenant(s): {Markup.Escape(string.Join(", ", tenants.Select(t => t.Slug)))}");
            foreach (var result in results)
            {
                Print(result);
            }

            var broken = results.Where(result => !result.Holds).ToList();
            if (broken.Count == 0)
            {
                return 0;
            }

            await Console.Error.WriteLineAsync(
                $"verify: {broken.Count} invariant(s) broken: {string.Join(", ", broken.Select(result => $"{result.Invariant.Name} ({result.Violations.Count})"))}");
            return InvariantBroken;
        });
        return command;
    }

    /// <summary>The checks on a local data directory: its blob store (kept files) and the configured retry limit of the outbox.</summary>
    private static InvariantChecks CreateChecks(LocalProduct product, string dataDirectory)
    {
        var configuration = product.Services.GetRequiredService<IConfiguration>();
        var events = configuration.GetSection(EventsOptions.SectionName).Get<EventsOptions>() ?? new EventsOptions();
        var blobs = new FileSystemBlobStore(Microsoft.Extensions.Options.Options.Create(new RuntimeOptions { DataDirectory = dataDirectory }));
        return new InvariantChecks(product.Services.GetRequiredService<TenantDatabase>(), blobs, events);
    }

    private static void Print(InvariantResult result)
    {
        var invariant = result.Invariant;
        var count = result.Checked.ToString("N0", CultureInfo.InvariantCulture);
        if (result.Holds)
        {
            AnsiConsole.MarkupLine($"[green]✓[/] {invariant.Name}: {count} {invariant.Unit}");
            return;
        }

        AnsiConsole.MarkupLine($"[red]✗[/] {invariant.Name}: {result.Violations.Count:N0} violation(s) among {count} {invariant.Unit}");
        AnsiConsole.MarkupLine($"    must hold: {Markup.Escape(invariant.Description)}");
        foreach (var violation in result.Violations.Take(ListedViolations))
        {
            AnsiConsole.MarkupLine($"    {Markup.Escape(violation.Tenant)}: {Markup.Escape(violation.Detail)}");
        }

        if (result.Violations.Count > ListedViolations)
        {
            AnsiConsole.MarkupLine($"    ... and {result.Violations.Count - ListedViolations:N0} more");
        }
    }
}
