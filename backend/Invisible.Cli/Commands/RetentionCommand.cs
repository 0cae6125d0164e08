using System.CommandLine;
using System.Globalization;
using Invisible.Data.Retention;
using Invisible.Data.Tenancy;
using Invisible.Server.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Server.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary>
/// <c>invisible retention run [--tenant T] [--dry-run]</c>, <c>retention policy --tenant T [...]</c>,
/// <c>retention hold add|remove|list --tenant T [--vendor CODE] --reason R</c>.
/// </summary>
internal static class RetentionCommand
{
    /// <summary>A policy or hold refused (below the defaults without --force, unknown vendor, no reason).</summary>
    public const int Refused = 1;

    public static Command Create() =>
        new(
            "retention",
            $"How long each tenant keeps its records, and removing what is older. Defaults: financial documents and the decisions about them " +
            $"{RetentionPolicy.DefaultFinancialYears} years after the end of their fiscal year (31 December unless set), audit entries " +
            $"{RetentionPolicy.DefaultAuditYears} years, the product's and PostgreSQL's log files {RetentionPolicy.SystemLogRetention.TotalDays:N0} days. " +
            "A legal hold on a tenant or a vendor keeps its records whatever their age. The worker runs `retention run` daily.")
        {
            CreateRun(),
            CreatePolicy(),
            CreateHold(),
        };

    private static Option<string> RequiredTenant() => new("--tenant") { Description = "The tenant (slug).", HelpName = "SLUG", Required = true };

    private static Command CreateRun()
    {
        var tenant = new Option<string?>("--tenant") { Description = "Only this tenant (default: every tenant, and the log files).", HelpName = "SLUG" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be removed, per table, and remove nothing." };
        var run = new Command(
            "run",
            "Remove, per tenant and in one transaction each, the records older than its policy: invoices, purchase orders, receipts with their " +
            "lines, decisions, exceptions, imports and e-mails (and their kept files), then audit entries (a checkpoint entry keeps the chain " +
            "verifiable); then log files older than 90 days. Prints the rows per table. Exit codes: 0 done, 4 could not run.")
        {
            tenant,
            dryRun,
        };
        run.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            var blobs = new FileSystemBlobStore(Microsoft.Extensions.Options.Options.Create(new RuntimeOptions { DataDirectory = dataDirectory }));
            var retention = new RetentionRun(
                product.Services.GetRequiredService<DatabaseRuntime>(), product.Services.GetRequiredService<TenantDirectory>(), blobs, dataDirectory,
                TimeProvider.System, product.Services.GetRequiredService<ILoggerFactory>().CreateLogger<RetentionRun>());
            RetentionRunReport report;
            try
            {
                report = await retention.RunAsync(parse.GetValue(tenant), parse.GetValue(dryRun), cancellationToken);
            }
            catch (ArgumentException exception)
            {
                await Console.Error.WriteLineAsync(exception.Message);
                return Refused;
            }

            Print(report);
            return 0;
        });
        return run;
    }

    private static void Print(RetentionRunReport report)
    {
        AnsiConsole.MarkupLine(report.DryRun ? "Dry run: nothing was removed. A run would remove:" : "Removed:");
        foreach (var outcome in report.Tenants)
        {
            var tenantReport = outcome.Report;
            var header = $"Tenant {Markup.Escape(outcome.Tenant.Slug)}: financial records dated up to {tenantReport.FinancialCutoff:yyyy-MM-dd}, " +
                         $"audit entries before {BackupCommand.Moment(tenantReport.AuditCutoff)} " +
                         $"({tenantReport.Policy.FinancialYears} years after fiscal years ending {tenantReport.Policy.FiscalYearEndMonth:D2}-{tenantReport.Policy.FiscalYearEndDay:D2}, " +
                         $"{tenantReport.Policy.AuditYears} years of audit entries)";
            AnsiConsole.MarkupLine(header);
            if (tenantReport.TenantOnHold)
            {
                AnsiConsole.MarkupLine("  on legal hold: nothing removed");
                continue;
            }

            var table = new Table().AddColumn("table").AddColumn(new TableColumn("rows").RightAligned());
            foreach (var count in tenantReport.Tables)
            {
                table.AddRow(Markup.Escape(count.Table), count.Rows.ToString("N0", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
        }

        AnsiConsole.MarkupLine($"Log files older than {RetentionPolicy.SystemLogRetention.TotalDays:N0} days: {report.LogFiles.Count}");
        foreach (var file in report.LogFiles)
        {
            AnsiConsole.MarkupLine($"  {Markup.Escape(file)}");
        }
    }

    private static Command CreatePolicy()
    {
        var tenant = RequiredTenant();
        var financialYears = new Option<int?>("--financial-years") { Description = "Years financial records are kept after their fiscal year ends (default 7).", HelpName = "N" };
        var auditYears = new Option<int?>("--audit-years") { Description = "Years audit entries are kept (default 3).", HelpName = "N" };
        var fiscalYearEnd = new Option<string?>("--fiscal-year-end") { Description = "Last day of the tenant's fiscal year, MM-DD (default 12-31).", HelpName = "MM-DD" };
        var force = new Option<bool>("--force") { Description = "Accept periods shorter than the defaults (recorded, with who forced them, in the audit log)." };
        var policy = new Command(
            "policy",
            "Show the tenant's retention policy, or change it with the options given (the rest stay). Shorter than the defaults only with --force. " +
            "Every change is an audit entry. Exit codes: 0 done, 1 refused.")
        {
            tenant, financialYears, auditYears, fiscalYearEnd, force,
        };
        policy.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            if (await FindTenantAsync(product, parse.GetValue(tenant)!, cancellationToken) is not { } tenantId)
            {
                return Refused;
            }

            await using var unitOfWork = await product.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenantId, cancellationToken);
            var current = await RetentionSettings.GetAsync(unitOfWork, cancellationToken);
            var changed = parse.GetValue(financialYears) is not null || parse.GetValue(auditYears) is not null || parse.GetValue(fiscalYearEnd) is not null;
            if (changed)
            {
                var (month, day) = (current.Policy.FiscalYearEndMonth, current.Policy.FiscalYearEndDay);
                if (parse.GetValue(fiscalYearEnd) is { } end && !RetentionPolicy.TryParseFiscalYearEnd(end, out month, out day))
                {
                    await Console.Error.WriteLineAsync($"--fiscal-year-end {end}: write the last day of the fiscal year as MM-DD, e.g. 06-30.");
                    return Refused;
                }

                var wanted = new RetentionPolicy(
                    parse.GetValue(financialYears) ?? current.Policy.FinancialYears, parse.GetValue(auditYears) ?? current.Policy.AuditYears, month, day);
                try
                {
                    current = await RetentionSettings.SetAsync(unitOfWork, wanted, parse.GetValue(force), TenantOnboarding.OperatorActor, cancellationToken);
                    await unitOfWork.CommitAsync(cancellationToken);
                }
                catch (RetentionSettingException exception)
                {
                    await Console.Error.WriteLineAsync(exception.Message);
                    return Refused;
                }
            }

            var shown = current.Policy;
            AnsiConsole.MarkupLine(
                $"Financial records: {shown.FinancialYears} years after the fiscal year (ending {shown.FiscalYearEndMonth:D2}-{shown.FiscalYearEndDay:D2}); " +
                $"audit entries: {shown.AuditYears} years{(current.IsDefault ? " (the defaults)" : string.Empty)}" +
                (current.ForcedBy is { } forcedBy ? $"; below the defaults, forced by {Markup.Escape(forcedBy)}" : string.Empty));
            return 0;
        });
        return policy;
    }

    private static Command CreateHold()
    {
        Command Change(string name, string description, bool add)
        {
            var tenant = RequiredTenant();
            var vendor = new Option<string?>("--vendor") { Description = "Only this vendor's documents (its vendor code); without it, the whole tenant.", HelpName = "CODE" };
            var reason = new Option<string>("--reason") { Description = "Why (who asked, the case or matter): recorded in the audit log.", HelpName = "TEXT", Required = true };
            var command = new Command(name, description) { tenant, vendor, reason };
            command.SetAction(async (parse, cancellationToken) =>
            {
                var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
                await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
                if (await FindTenantAsync(product, parse.GetValue(tenant)!, cancellationToken) is not { } tenantId)
                {
                    return Refused;
                }

                await using var unitOfWork = await product.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenantId, cancellationToken);
                var scope = parse.GetValue(vendor) is { } code ? $"vendor {code}" : "the tenant";
                try
                {
                    if (add)
                    {
                        await RetentionSettings.AddHoldAsync(unitOfWork, parse.GetValue(vendor), parse.GetValue(reason)!, TenantOnboarding.OperatorActor, cancellationToken);
                    }
                    else
                    {
                        await RetentionSettings.RemoveHoldAsync(unitOfWork, parse.GetValue(vendor), parse.GetValue(reason)!, TenantOnboarding.OperatorActor, cancellationToken);
                    }

                    await unitOfWork.CommitAsync(cancellationToken);
                }
                catch (RetentionSettingException exception)
                {
                    await Console.Error.WriteLineAsync(exception.Message);
                    return Refused;
                }

                AnsiConsole.MarkupLine(add ? $"Legal hold placed on {Markup.Escape(scope)}." : $"Legal hold on {Markup.Escape(scope)} lifted.");
                return 0;
            });
            return command;
        }

        var listTenant = RequiredTenant();
        var list = new Command("list", "List the tenant's legal holds.") { listTenant };
        list.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
            await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
            if (await FindTenantAsync(product, parse.GetValue(listTenant)!, cancellationToken) is not { } tenantId)
            {
                return Refused;
            }

            await using var unitOfWork = await product.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenantId, cancellationToken);
            var holds = await RetentionSettings.ListHoldsAsync(unitOfWork, cancellationToken);
            if (holds.Count == 0)
            {
                AnsiConsole.MarkupLine("No legal holds.");
                return 0;
            }

            var table = new Table().AddColumns("scope", "reason", "placed by", "placed (UTC)");
            foreach (var hold in holds)
            {
                table.AddRow(
                    hold.VendorCode is null ? "whole tenant" : $"vendor {Markup.Escape(hold.VendorCode)}", Markup.Escape(hold.Reason),
                    Markup.Escape(hold.PlacedBy), BackupCommand.Moment(hold.PlacedAt));
            }

            AnsiConsole.Write(table);
            return 0;
        });

        return new Command("hold", "Legal holds: what they cover is never removed by retention, whatever its age. Every change is an audit entry.")
        {
            Change("add", "Place a legal hold on the tenant or one vendor. Exit codes: 0 placed, 1 refused (already held, unknown vendor).", add: true),
            Change("remove", "Lift a legal hold. Exit codes: 0 lifted, 1 refused (no such hold).", add: false),
            list,
        };
    }

    private static async Task<Guid?> FindTenantAsync(LocalProduct product, string slug, CancellationToken cancellationToken)
    {
        if (await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, cancellationToken) is { } tenant)
        {
            return tenant.Id;
        }

        await Console.Error.WriteLineAsync($"No tenant {slug}.");
        return null;
    }
}
