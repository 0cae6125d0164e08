using System.CommandLine;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Server.Operations;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible security check [--url URL]</c>: the security audit an operator runs against the live installation.</summary>
internal static class SecurityCommand
{
    public static Command Create()
    {
        var url = new Option<Uri?>("--url")
        {
            Description = "Also check that this running server (e.g. http://127.0.0.1:5080) sends the documented security headers.",
            HelpName = "URL",
        };
        var check = new Command(
            "check",
            "Check, at run time: every tenant table has row-level security enabled and forced; the application role is not a superuser, has no " +
            "BYPASSRLS and owns nothing; security-definer functions pin search_path; secrets files are 0600 and the data directory 0700 " +
            $"(0711 with the embedded cluster as root); with --url, the response headers. Exit codes: 0 nothing found, {VerifyCommand.InvariantBroken} findings (listed), 4 could not run.")
        {
            url,
        };
        check.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var database = product.Services.GetRequiredService<DatabaseRuntime>();
            var findings = await new SecurityAudit(dataDirectory, database.ConnectionStrings.AppConnectionString).RunAsync(parse.GetValue(url), cancellationToken);
            foreach (var name in SecurityAudit.Checks)
            {
                var found = findings.Where(finding => finding.Check == name).ToList();
                AnsiConsole.MarkupLine(found.Count == 0 ? $"[green]✓[/] {name}" : $"[red]✗[/] {name}");
                foreach (var finding in found)
                {
                    AnsiConsole.MarkupLine($"    {Markup.Escape(finding.Detail)}");
                }
            }

            if (findings.Count == 0)
            {
                return 0;
            }

            await Console.Error.WriteLineAsync($"security check: {findings.Count} finding(s) in {string.Join(", ", findings.Select(finding => finding.Check).Distinct())}");
            return VerifyCommand.InvariantBroken;
        });
        return new Command("security", "Security checks of the installation.") { check };
    }
}

/// <summary><c>invisible config check</c>: the product's settings with their sources, and what is wrong with them.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var check = new Command(
            "check",
            "List every setting of the product's sections with its source (appsettings.json, environment, INVISIBLE_ environment), secrets " +
            "hidden; flag unknown keys (likely typos, with the nearest known name), values that do not bind, invalid URLs and ports, " +
            $"connection strings that do not parse and development values of secrets. Exit codes: 0 fine, {VerifyCommand.InvariantBroken} problems (listed).");
        check.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = BackupCommand.ProductConfiguration();
            foreach (var setting in ConfigurationAudit.Settings(configuration))
            {
                AnsiConsole.MarkupLine($"{Markup.Escape(setting.Key)} = {Markup.Escape(setting.Value)}  [dim]({Markup.Escape(setting.Source)})[/]");
            }

            var problems = ConfigurationAudit.Problems(configuration);
            foreach (var problem in problems)
            {
                AnsiConsole.MarkupLine($"[red]✗[/] {Markup.Escape(problem)}");
            }

            if (problems.Count == 0)
            {
                AnsiConsole.MarkupLine("[green]✓[/] configuration is consistent");
                return 0;
            }

            await Console.Error.WriteLineAsync($"config check: {problems.Count} problem(s)");
            return VerifyCommand.InvariantBroken;
        });
        return new Command("config", "Configuration checks.") { check };
    }
}
