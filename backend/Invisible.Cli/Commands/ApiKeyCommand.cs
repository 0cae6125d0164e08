using System.CommandLine;
using Invisible.Identity;
using Invisible.Server.Accounts;
using Invisible.Server.Errors;
using Invisible.Server.Hosting;
using Spectre.Console;

namespace Invisible.Cli.Commands;

internal static class ApiKeyCommand
{
    public static Command Create()
    {
        var tenant = new Option<string>("--tenant") { Description = "The tenant's slug.", Required = true, HelpName = "SLUG" };
        var name = new Option<string>("--name") { Description = "What uses the key, e.g. \"nightly ERP import\".", Required = true, HelpName = "NAME" };
        var role = new Option<string>("--role") { Description = $"The key's role: {string.Join(", ", Roles.All)}.", DefaultValueFactory = _ => Roles.Clerk, HelpName = "ROLE" };
        var expiresInDays = new Option<int?>("--expires-in-days") { Description = "Days until the key stops working (default: until revoked).", HelpName = "DAYS" };

        var create = new Command("create", "Create a service-account key for the tenant and print it (shown once; stored only hashed).")
        {
            tenant, name, role, expiresInDays,
        };
        create.SetAction(async (parse, cancellationToken) =>
        {
            await using var product = await LocalProduct.OpenAsync(
                parse.GetValue(CommonOptions.DataDirectory)!.FullName, CommonOptions.Logging(parse), cancellationToken);
            var days = parse.GetValue(expiresInDays);
            try
            {
                var (apiKey, key) = await LocalOperator.CreateApiKeyAsync(
                    product.Services, parse.GetValue(tenant)!, parse.GetValue(name)!, parse.GetValue(role)!,
                    days is { } d ? DateTimeOffset.UtcNow.AddDays(d) : null, cancellationToken);
                AnsiConsole.MarkupLine($"API key [bold]{Markup.Escape(apiKey.Name)}[/] ({Markup.Escape(apiKey.Role)}) created. Send it as the x-api-key header:");
                AnsiConsole.WriteLine(key);
                return 0;
            }
            catch (ArgumentException exception)
            {
                await Console.Error.WriteLineAsync(exception.Message);
                return 1;
            }
            catch (DomainException exception)
            {
                var details = exception.FieldViolations.Select(violation => $" --{violation.Field}: {violation.Description}");
                await Console.Error.WriteLineAsync(exception.Message + string.Concat(details));
                return 1;
            }
        });

        return new Command("api-key", "Manage service-account keys (for machine imports and remote use).") { create };
    }
}
