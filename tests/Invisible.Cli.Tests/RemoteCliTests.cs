using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Server.Hosting;
using Invisible.Server.Tenancy;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Cli.Tests;

/// <summary>
/// End to end: a running server, an API key made with <c>invisible api-key create</c>, and the <c>invisible</c> executable
/// importing, reconciling and exporting over gRPC-Web with <c>--server</c> / <c>INVISIBLE_SERVER</c> and the key.
/// </summary>
public sealed class RemoteCliTests : IAsyncLifetime
{
    private readonly TemporaryDirectory _directory = new("invisible-cli-remote-");
    private InvisibleServer _server = null!;

    private string DataDirectory => Path.Combine(_directory.Path, "server-data");

    // The CLI must not touch a data directory of its own when it works remotely: this one is never created.
    private string UnusedDataDirectory => Path.Combine(_directory.Path, "no-local-data");

    public async Task InitializeAsync()
    {
        _server = await InvisibleServer.StartAsync(
            [$"--Server:DataDirectory={DataDirectory}", "--Server:HttpPort=0", "--Server:GrpcPort=0"], configure: null, CancellationToken.None);
        await ActivatorUtilities.CreateInstance<TenantOnboarding>(_server.Services)
            .CreateAsync("remote", "Remote Ltd", "GBP", "admin@remote.example", TenantOnboarding.OperatorActor, CancellationToken.None);
    }

    [Fact]
    public async Task Import_reconcile_and_export_run_against_the_server_with_an_API_key_from_the_environment_or_the_command_line()
    {
        var created = await CliProcess.RunAsync("api-key", "create", "--tenant", "remote", "--name", "nightly import", "--role", "clerk", "--data-dir", DataDirectory);
        Assert.True(created.ExitCode == 0, created.Output + created.Error);
        var key = created.Output.Trim().Split('\n')[^1].Trim();
        var server = _server.Endpoints.Http;
        var withKey = new Dictionary<string, string> { ["INVISIBLE_API_KEY"] = key };
        var withServerAndKey = new Dictionary<string, string> { ["INVISIBLE_SERVER"] = server, ["INVISIBLE_API_KEY"] = key };
        var vendors = await WriteAsync("vendors.csv", "vendor_code,name\nV1,Acme Supplies Ltd\n");
        var orders = await WriteAsync("purchase_orders.csv",
            "po_number;vendor_code;order_date;currency;line_no;sku;description;quantity;unit_price\nPO-7;V1;05.01.2026;GBP;1;T-26A;Toner 26A;4;80,00\nPO-8;V9;05.01.2026;GBP;1;X;Unknown vendor;1;1,00\n");
        var fixedOrders = await WriteAsync("purchase_orders_fixed.csv",
            "po_number;vendor_code;order_date;currency;line_no;sku;description;quantity;unit_price\nPO-7;V1;05.01.2026;GBP;1;T-26A;Toner 26A;4;80,00\n");
        var receipts = await WriteAsync("receipts.csv", "receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-7,PO-7,1,2026-01-10,3\n");
        var invoices = await WriteAsync("invoices.csv",
            "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
            "A-1,Acme Supplies,2026-01-12,GBP,PO 7,1,T-26A,Toner 26A,4,80.00,320.00,320.00\n");
        var results = Path.Combine(_directory.Path, "results.csv");

        var stored = await CliProcess.RunAsync(withKey, "import", "vendors", vendors, "--server", server, "--data-dir", UnusedDataDirectory);
        var again = await CliProcess.RunAsync(withKey, "import", "vendors", vendors, "--server", server, "--data-dir", UnusedDataDirectory);
        var rejected = await CliProcess.RunAsync(
            "import", "purchase-orders", orders, "--server", server, "--api-key", key, "--culture", "de-DE", "--delimiter", ";", "--date-format", "dd.MM.yyyy",
            "--data-dir", UnusedDataDirectory);
        var fixedImport = await CliProcess.RunAsync(withServerAndKey, "import", "purchase-orders", fixedOrders, "--culture", "de-DE", "--delimiter", ";",
            "--date-format", "dd.MM.yyyy", "--data-dir", UnusedDataDirectory);
        var receiptsImport = await CliProcess.RunAsync(withServerAndKey, "import", "receipts", receipts, "--data-dir", UnusedDataDirectory);
        var invoicesImport = await CliProcess.RunAsync(withServerAndKey, "import", "invoices", invoices, "--data-dir", UnusedDataDirectory);
        var reconciled = await CliProcess.RunAsync(withServerAndKey, "reconcile", "--tenant", "someone-else", "--data-dir", UnusedDataDirectory);
        var exported = await CliProcess.RunAsync(withServerAndKey, "export", "results", "--out", results, "--data-dir", UnusedDataDirectory);

        Assert.True(stored.ExitCode == 0, stored.Output + stored.Error);
        Assert.Contains("Stored vendors.csv: 1 rows read, 1 stored (1 new", stored.Output, StringComparison.Ordinal);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("Duplicate file: vendors.csv has the same content as import #", again.Output, StringComparison.Ordinal);
        Assert.True(rejected.ExitCode == 1, rejected.Output + rejected.Error);
        Assert.Contains("Rejected purchase_orders.csv: 1 errors; nothing was stored", rejected.Output, StringComparison.Ordinal);
        Assert.Matches(@"│ 3 +│ vendor_code +│ V9 +│", rejected.Output);
        Assert.All([fixedImport, receiptsImport, invoicesImport], result => Assert.True(result.ExitCode == 0, result.Output + result.Error));
        Assert.True(reconciled.ExitCode == 0, reconciled.Output + reconciled.Error);
        Assert.Contains("Reconciled 1 invoices", reconciled.Output, StringComparison.Ordinal);
        Assert.Matches(@"│ exception +│ 1 +│", reconciled.Output);
        Assert.Contains("--tenant is ignored with --server", reconciled.Error, StringComparison.Ordinal);
        Assert.True(exported.ExitCode == 0, exported.Output + exported.Error);
        Assert.Equal(
            "invoice_number,vendor_code,invoice_status,line_no,line_status,po_number,po_line_no,source_line\r\nA-1,V1,exception,1,quantity_variance,PO-7,1,2\r\n",
            await File.ReadAllTextAsync(results));
        Assert.False(Directory.Exists(UnusedDataDirectory));
        // Sent with an API key, so recorded as arriving by API, not as a person's upload.
        Assert.Equal(
            [("invoices", "api"), ("receipts", "api"), ("purchase_orders", "api"), ("purchase_orders", "api"), ("vendors", "api")],
            await ImportKindsOfTenantAsync("remote"));
    }

    [Fact]
    public async Task A_wrong_key_exits_3_naming_the_reason_and_a_server_without_a_key_is_a_usage_error()
    {
        var vendors = await WriteAsync("vendors.csv", "vendor_code,name\nV1,Acme Supplies Ltd\n");
        var server = _server.Endpoints.Http;

        var wrongKey = await CliProcess.RunAsync(new Dictionary<string, string> { ["INVISIBLE_API_KEY"] = "inv_not-a-real-key" },
            "import", "vendors", vendors, "--server", server, "--data-dir", UnusedDataDirectory);
        var noKey = await CliProcess.RunAsync(new Dictionary<string, string> { ["INVISIBLE_API_KEY"] = "" },
            "reconcile", "--server", server, "--data-dir", UnusedDataDirectory);
        var badUrl = await CliProcess.RunAsync("reconcile", "--server", "ftp://example.com", "--api-key", "k", "--data-dir", UnusedDataDirectory);
        var keyWithoutServer = await CliProcess.RunAsync(new Dictionary<string, string> { ["INVISIBLE_SERVER"] = "" },
            "reconcile", "--api-key", "k", "--data-dir", UnusedDataDirectory);
        var nobodyThere = await CliProcess.RunAsync("reconcile", "--server", "http://127.0.0.1:1", "--api-key", "k", "--data-dir", UnusedDataDirectory);

        Assert.Equal(3, wrongKey.ExitCode);
        Assert.Contains("Unauthenticated (API_KEY_INVALID)", wrongKey.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("inv_not-a-real-key", wrongKey.Output + wrongKey.Error, StringComparison.Ordinal);
        Assert.Equal((2, 2, 2), (noKey.ExitCode, badUrl.ExitCode, keyWithoutServer.ExitCode));
        Assert.Contains("INVISIBLE_API_KEY", noKey.Error, StringComparison.Ordinal);
        Assert.Equal(3, nobodyThere.ExitCode);
        Assert.Contains("Unavailable", nobodyThere.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(UnusedDataDirectory));
    }

    [Fact]
    public async Task Help_documents_the_remote_options_and_never_shows_a_key_from_the_environment()
    {
        var help = await CliProcess.RunAsync(new Dictionary<string, string> { ["INVISIBLE_API_KEY"] = "inv_secret-from-env" }, "import", "vendors", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--server <URL>", help.Output, StringComparison.Ordinal);
        Assert.Contains("--api-key <KEY>", help.Output, StringComparison.Ordinal);
        Assert.Contains("INVISIBLE_API_KEY", help.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("inv_secret-from-env", help.Output, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    private async Task<List<(string Kind, string Source)>> ImportKindsOfTenantAsync(string slug)
    {
        var tenant = await _server.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, CancellationToken.None);
        await using var unitOfWork = await _server.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenant!.Id, CancellationToken.None);
        return (await unitOfWork.Db.QueryToListAsync(
            row => (Kind: row.GetFieldValue<string>(0), Source: row.GetFieldValue<string>(1)),
            "select kind, source from imports where status = 'stored' or status = 'rejected' order by import_no desc", CancellationToken.None)).ToList();
    }

    private async Task<string> WriteAsync(string name, string content)
    {
        var path = Path.Combine(_directory.Path, name);
        await File.WriteAllTextAsync(path, content);
        return path;
    }
}
