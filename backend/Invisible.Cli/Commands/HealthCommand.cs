using System.CommandLine;
using System.Text.Json;
using Invisible.Server.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible health [--json]</c>: the operator's checks, with a monitoring plugin's exit codes.</summary>
internal static class HealthCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the checks as JSON (status, and per check its status, description and figures)." };
        var command = new Command(
            "health",
            "Check what an operator watches, without starting anything: database reachable and migrations current, outbox lag and dead " +
            "letters, disk free in the data directory, age of the newest backup and of the WAL archive (and archiving failures), TLS " +
            "certificate expiry when Kestrel:Certificates:Default:Path is set. Exit codes like a monitoring plugin: 0 ok, 1 warning, 2 critical.")
        {
            json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            var context = await OperationsHealthContext.FromAsync(BackupCommand.ProductConfiguration(), dataDirectory, cancellationToken);
            await using var services = new ServiceCollection().AddLogging().AddOperationsHealthChecks(context).BuildServiceProvider();
            var report = await services.GetRequiredService<HealthCheckService>()
                .CheckHealthAsync(registration => registration.Tags.Contains(OperationsHealthRegistration.Tag), cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    new
                    {
                        status = report.Status.ToString(),
                        checks = report.Entries.ToDictionary(
                            entry => entry.Key,
                            entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description, data = entry.Value.Data }),
                    },
                    Indented));
            }
            else
            {
                foreach (var (name, entry) in report.Entries)
                {
                    var mark = entry.Status switch { HealthStatus.Healthy => "[green]OK[/]  ", HealthStatus.Degraded => "[yellow]WARN[/]", _ => "[red]CRIT[/]" };
                    AnsiConsole.MarkupLine($"{mark} {Markup.Escape(name)}: {Markup.Escape(entry.Description ?? entry.Exception?.Message ?? string.Empty)}");
                }
            }

            return OperationsHealthRegistration.ExitCode(report.Status);
        });
        return command;
    }
}
