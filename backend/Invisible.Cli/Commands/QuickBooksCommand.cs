using Invisible.Server.FieldEncryption;
using System.CommandLine;
using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Platform.Secrets;
using Invisible.Server.Hosting;
using Invisible.Server.QuickBooks;
using Invisible.Server.Tenancy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Spectre.Console;

namespace Invisible.Cli.Commands;

/// <summary><c>invisible quickbooks connect|export|status|disconnect</c>: the operator's side of the QuickBooks Online integration.</summary>
internal static class QuickBooksCommand
{
    public const int SomeFailed = 1;
    public const int UsageError = 2;
    public const int Refused = 3;

    public static Command Create()
    {
        var realm = new Option<string>("--realm") { Description = "The QuickBooks company's realm id (Company ID).", Required = true, HelpName = "REALM_ID" };
        var account = new Option<string?>("--expense-account")
        {
            Description = "Id of the QuickBooks expense account Bill lines are booked to unless a vendor's mapping says otherwise.", HelpName = "ACCOUNT_ID",
        };
        var createVendors = new Option<bool?>("--create-vendors")
        {
            Description = "Create a QuickBooks vendor when none has the tax id or name of an invoice's vendor (else the invoice waits: map this vendor).",
        };
        var connect = new Command(
            "connect",
            "Connect a tenant to a QuickBooks Online company with a refresh token read from standard input (from Intuit's OAuth " +
            "Playground or another client of this app). The token is exchanged at once (QuickBooks rotates it) and stored encrypted. " +
            $"Exit codes: 0 connected, {UsageError} unknown tenant or no token, {Refused} QuickBooks refused the token.")
        {
            CommonOptions.Tenant, realm, account, createVendors,
        };
        connect.SetAction(async (parse, cancellationToken) =>
        {
            var refreshToken = (await Console.In.ReadToEndAsync(cancellationToken)).Trim();
            if (refreshToken.Length == 0)
            {
                await Console.Error.WriteLineAsync("Pipe the refresh token to standard input, e.g. `invisible quickbooks connect --realm 123 < token.txt`.");
                return UsageError;
            }

            return await WithTenantAsync(parse, async (services, tenant) =>
            {
                try
                {
                    var connection = await services.GetRequiredService<QuickBooksConnections>().ConnectWithRefreshTokenAsync(
                        tenant.Id, parse.GetValue(realm)!, refreshToken, TenantOnboarding.OperatorActor, cancellationToken,
                        parse.GetValue(account), parse.GetValue(createVendors));
                    AnsiConsole.MarkupLine(
                        $"Tenant [bold]{Markup.Escape(tenant.Slug)}[/] connected to QuickBooks company [bold]{Markup.Escape(connection.CompanyName ?? connection.RealmId)}[/] (realm {Markup.Escape(connection.RealmId)}).");
                    if (connection.DefaultExpenseAccountId is null)
                    {
                        AnsiConsole.MarkupLine("No default expense account yet: exports wait until one is set (--expense-account ID, or Settings → QuickBooks).");
                    }

                    return 0;
                }
                catch (Exception exception) when (exception is QuickBooksGrantRefusedException or QuickBooksFaultException or ArgumentException)
                {
                    await Console.Error.WriteLineAsync(exception.Message);
                    return Refused;
                }
            }, cancellationToken);
        });

        var export = new Command(
            "export",
            "Export the tenant's matched and approved invoices that are not in QuickBooks yet (Bills; credit notes as VendorCredits), " +
            "read each back, and print how many were created, already there, waiting and failed. Safe to re-run: nothing is created twice. " +
            $"Exit codes: 0 done, {SomeFailed} some failed (listed), {UsageError} unknown tenant, {Refused} not connected.")
        {
            CommonOptions.Tenant,
        };
        export.SetAction(async (parse, cancellationToken) => await WithTenantAsync(parse, async (services, tenant) =>
        {
            QuickBooksExportSummary summary;
            try
            {
                summary = await services.GetRequiredService<QuickBooksExporter>().ExportAsync(tenant.Id, null, cancellationToken);
            }
            catch (QuickBooksNotConnectedException exception)
            {
                await Console.Error.WriteLineAsync(exception.Message);
                return Refused;
            }

            Console.WriteLine($"created: {summary.Created}");
            Console.WriteLine($"already there: {summary.AlreadyThere}");
            Console.WriteLine($"waiting: {summary.Waiting}");
            Console.WriteLine($"failed: {summary.Failed}");
            Console.WriteLine($"differs: {summary.Differs}");
            return summary.Failed > 0 ? SomeFailed : 0;
        }, cancellationToken));

        var status = new Command("status", "Show the tenant's QuickBooks connection and its exports by state.") { CommonOptions.Tenant };
        status.SetAction(async (parse, cancellationToken) => await WithTenantAsync(parse, async (services, tenant) =>
        {
            var connection = await services.GetRequiredService<QuickBooksConnections>().FindAsync(tenant.Id, cancellationToken);
            if (connection is null)
            {
                Console.WriteLine("not connected");
                return 0;
            }

            Console.WriteLine($"status: {connection.Status.Replace('_', ' ')}");
            Console.WriteLine($"company: {connection.CompanyName} (realm {connection.RealmId})");
            Console.WriteLine($"default expense account: {connection.DefaultExpenseAccountName ?? "none"} {connection.DefaultExpenseAccountId}");
            Console.WriteLine($"create missing vendors: {(connection.CreateMissingVendors ? "yes" : "no")}");
            if (connection.LastError is not null)
            {
                Console.WriteLine($"last error: {connection.LastError}");
            }

            foreach (var (state, count) in await services.GetRequiredService<QuickBooksExportCounts>().ByStateAsync(tenant.Id, cancellationToken))
            {
                Console.WriteLine($"{state}: {count}");
            }

            return 0;
        }, cancellationToken));

        var disconnect = new Command("disconnect", "Revoke the tenant's QuickBooks tokens at Intuit and forget them.") { CommonOptions.Tenant };
        disconnect.SetAction(async (parse, cancellationToken) => await WithTenantAsync(parse, async (services, tenant) =>
        {
            var done = await services.GetRequiredService<QuickBooksConnections>().DisconnectAsync(tenant.Id, TenantOnboarding.OperatorActor, null, cancellationToken);
            Console.WriteLine(done ? "disconnected" : "not connected");
            return 0;
        }, cancellationToken));

        return new Command("quickbooks", "Connect a tenant to QuickBooks Online and export its invoices as Bills.") { connect, export, status, disconnect };
    }

    private static async Task<int> WithTenantAsync(
        ParseResult parse, Func<IServiceProvider, TenantRecord, Task<int>> action, CancellationToken cancellationToken)
    {
        var dataDirectory = parse.GetValue(CommonOptions.DataDirectory)!.FullName;
        await using var product = await LocalProduct.OpenAsync(dataDirectory, CommonOptions.Logging(parse), cancellationToken);
        var tenant = await ReconcileCommand.FindTenantAsync(product, parse.GetValue(CommonOptions.Tenant)!, dataDirectory, cancellationToken);
        if (tenant is null)
        {
            return UsageError;
        }

        await using var services = QuickBooksServices(product, dataDirectory);
        return await action(services, tenant);
    }

    // The product's database with the QuickBooks client beside it; secrets from the data directory's secrets file, as the
    // embedded server reads them (the token encryption key and, unless configured, the OAuth client).
    private static ServiceProvider QuickBooksServices(LocalProduct product, string dataDirectory)
    {
        var configuration = product.Services.GetRequiredService<IConfiguration>();
        var services = new ServiceCollection()
            .AddSingleton(configuration)
            .AddSingleton(product.Services.GetRequiredService<ILoggerFactory>())
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddSingleton(product.Services.GetRequiredService<TenantDatabase>())
            .AddSingleton(product.Services.GetRequiredService<NpgsqlDataSource>())
            .AddSingleton(product.Services.GetRequiredService<PersonalDataKeys>())
            .AddSingleton<ISecretStore>(provider => new FileSecretStore(
                Options.Create(new RuntimeOptions { DataDirectory = dataDirectory }), provider.GetRequiredService<ILogger<FileSecretStore>>()));
        services.AddQuickBooksCore();
        return services.BuildServiceProvider();
    }
}
