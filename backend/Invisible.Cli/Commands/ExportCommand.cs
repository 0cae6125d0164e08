using System.CommandLine;
using Invisible.Cli.Remote;
using Invisible.Server.Hosting;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible export results --out FILE</c>: the current matching results as <c>results.csv</c> (FORMATS section 3).</summary>
internal static class ExportCommand
{
    public const int UsageError = 2;

    public static Command Create()
    {
        var output = new Option<FileInfo>("--out")
        {
            Description = "Where to write the CSV; an existing file is replaced.",
            HelpName = "FILE",
            Required = true,
        };
        var results = new Command(
            "results",
            "Write one row per invoice line from each invoice's latest decision: " +
            "invoice_number,vendor_code,invoice_status,line_no,line_status,po_number,po_line_no,source_line, in import order then source line. " +
            $"Exit codes: 0 written, {UsageError} unknown tenant or unwritable file.")
        {
            CommonOptions.Tenant,
            output,
            CommonOptions.Server,
            CommonOptions.ApiKey,
        };
        results.SetAction(async (parse, cancellationToken) =>
        {
            var file = parse.GetValue(output)!;
            if (file.Directory is { Exists: false } directory)
            {
                await Console.Error.WriteLineAsync($"{file.FullName}: the folder {directory.FullName} does not exist.");
                return UsageError;
            }

            if (await RemoteServer.RunIfRequestedAsync(parse, remote => RemoteCommands.ExportResultsAsync(remote, file, cancellationToken)) is { } remoteExit)
            {
                return remoteExit;
            }

            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await ReconcileCommand.FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, dataDirectory, cancellationToken);
            if (tenant is null)
            {
                return UsageError;
            }

            // Written beside the target and moved into place, so a failed export never leaves half a file under the name.
            var partial = file.FullName + ".partial";
            int rows;
            try
            {
                await using (var stream = File.Create(partial))
                {
                    rows = await ReconcileCommand.CreateMatching(product).ExportResultsAsync(tenant.Id, stream, cancellationToken);
                }

                File.Move(partial, file.FullName, overwrite: true);
            }
            catch
            {
                File.Delete(partial);
                throw;
            }

            AnsiConsole.MarkupLine($"Wrote [bold]{rows:N0}[/] result rows of {Markup.Escape(tenant.Slug)} to {Markup.Escape(file.FullName)}.");
            if (rows == 0)
            {
                AnsiConsole.MarkupLine("No decisions yet: run `invisible reconcile` first.");
            }

            return 0;
        });
        return new Command("export", "Export data of a tenant.") { results };
    }
}
