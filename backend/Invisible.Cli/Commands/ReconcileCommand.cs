using System.CommandLine;
using System.Globalization;
using Invisible.Cli.Remote;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Matching;
using Invisible.Server.Hosting;
using Invisible.Server.Matching;
using Invisible.Server.Tenancy;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible reconcile</c>: matches every invoice of a tenant and appends the decisions, as the web app's "Reconcile" does.</summary>
internal static class ReconcileCommand
{
    public const int UsageError = 2;

    public static Command Create()
    {
        var command = new Command(
            "reconcile",
            "Match every invoice of a tenant against its purchase orders, receipts and tolerances, and store the decisions " +
            "(earlier decisions are kept). Shows the stage it is in on a terminal, then prints how many invoices ended in each status. " +
            $"Exit codes: 0 done, {UsageError} unknown tenant.")
        {
            CommonOptions.Tenant,
            CommonOptions.Server,
            CommonOptions.ApiKey,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await RemoteServer.RunIfRequestedAsync(parse, remote => RemoteCommands.ReconcileAsync(remote, cancellationToken)) is { } remoteExit)
            {
                return remoteExit;
            }

            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var tenant = await FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, dataDirectory, cancellationToken);
            if (tenant is null)
            {
                return UsageError;
            }

            var summary = await ReconcileWithProgressAsync(CreateMatching(product), tenant, cancellationToken);
            AnsiConsole.MarkupLine(
                $"Reconciled [bold]{summary.InvoiceCount:N0}[/] invoices of {Markup.Escape(tenant.Slug)} with tolerances v{summary.ToleranceVersion} (run {summary.RunId}).");
            var table = new Table().AddColumns("status", "invoices");
            foreach (var status in Enum.GetValues<InvoiceStatus>().Reverse())
            {
                table.AddRow(status.ToExportName(), summary.InvoicesByStatus.GetValueOrDefault(status).ToString("N0", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>A large tenant's run takes tens of seconds: the stage it is in and, while storing, a bar of decisions stored.</summary>
    private static Task<ReconcileSummary> ReconcileWithProgressAsync(InvoiceMatching matching, TenantRecord tenant, CancellationToken cancellationToken) =>
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progressContext =>
            {
                var slug = Markup.Escape(tenant.Slug);
                var task = progressContext.AddTask(slug, maxValue: 1);
                task.IsIndeterminate = true;
                var progress = new SynchronousProgress<ReconcileProgress>(report =>
                {
                    task.Description = report.Stage switch
                    {
                        ReconcileStage.Loading => $"{slug}: loading documents",
                        ReconcileStage.Matching => $"{slug}: matching",
                        ReconcileStage.Storing => $"{slug}: storing decisions ({report.InvoicesStored:N0} of {report.InvoiceCount:N0})",
                        _ => $"{slug}: committing",
                    };
                    if (report.InvoiceCount > 0)
                    {
                        task.IsIndeterminate = false;
                        task.MaxValue = report.InvoiceCount;
                        task.Value = report.InvoicesStored;
                    }
                });
                var summary = await matching.ReconcileAsync(tenant.Id, TenantOnboarding.OperatorActor, requestId: null, progress, cancellationToken);
                task.Value = task.MaxValue;
                return summary;
            });

    /// <summary>The product's matching service on a local data directory.</summary>
    public static InvoiceMatching CreateMatching(LocalProduct product) =>
        ActivatorUtilities.CreateInstance<InvoiceMatching>(product.Services, TimeProvider.System);

    /// <summary>The tenant named by <c>--tenant</c>; null, with the reason on standard error, when there is none.</summary>
    public static async Task<TenantRecord?> FindTenantAsync(LocalProduct product, string slug, string dataDirectory, CancellationToken cancellationToken)
    {
        var tenant = await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, cancellationToken);
        if (tenant is null)
        {
            await Console.Error.WriteLineAsync($"No tenant '{slug}' in {dataDirectory}; create it with `invisible tenant create {slug}`.");
        }

        return tenant;
    }
}
