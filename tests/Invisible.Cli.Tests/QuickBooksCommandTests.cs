using Invisible.Testing;
using Invisible.Testing.QuickBooks;

namespace Invisible.Cli.Tests;

/// <summary><c>invisible quickbooks</c> against a stand-in QuickBooks Online company.</summary>
public sealed class QuickBooksCommandTests : IAsyncLifetime
{
    private const string Realm = "9130355377241111";
    private readonly TemporaryDirectory _directory = new("invisible-cli-quickbooks-");
    private StandInQuickBooks _standIn = null!;

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    public async Task InitializeAsync() => _standIn = await StandInQuickBooks.StartAsync();

    public async Task DisposeAsync()
    {
        await _standIn.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Connect_reads_the_refresh_token_from_standard_input_and_export_makes_each_Bill_once()
    {
        var refreshToken = _standIn.NewCompany(Realm, "Acme Books Ltd");
        _standIn.Companies[Realm].Add("Vendor", new() { ["DisplayName"] = "Acme Supplies Ltd" });
        await RunAsync("tenant", "create", "acme");
        await ImportAsync("vendors", "vendor_code,name,payment_terms\nV1,Acme Supplies Ltd,NET30\n");
        await ImportAsync("purchase-orders", "po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price\nPO-1,V1,2026-01-05,GBP,1,P-A4,Paper A4,10,10.00\n");
        await ImportAsync("receipts", "receipt_number,po_number,po_line_no,received_date,quantity_received\nGR-1,PO-1,1,2026-01-10,10\n");
        await ImportAsync(
            "invoices",
            "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total\n" +
            "A-1,Acme Supplies,2026-01-12,GBP,PO-1,1,P-A4,Paper A4,10,10.00,100.00,100.00\n");
        await RunAsync("reconcile", "--tenant", "acme");

        var connect = await CliProcess.RunWithInputAsync(
            refreshToken + "\n", _standIn.ProductEnvironment, "quickbooks", "connect", "--tenant", "acme", "--realm", Realm, "--expense-account", "1", "--data-dir", DataDirectory);
        var first = await CliProcess.RunAsync(_standIn.ProductEnvironment, "quickbooks", "export", "--tenant", "acme", "--data-dir", DataDirectory);
        var second = await CliProcess.RunAsync(_standIn.ProductEnvironment, "quickbooks", "export", "--tenant", "acme", "--data-dir", DataDirectory);

        Assert.True(connect.ExitCode == 0, connect.Output + connect.Error);
        Assert.Equal(
            (true, true, true, true, 1),
            (connect.Output.Contains("Acme Books Ltd", StringComparison.Ordinal), first.Output.Contains("created: 1", StringComparison.Ordinal),
             second.Output.Contains("created: 0", StringComparison.Ordinal), second.Output.Contains("already there: 1", StringComparison.Ordinal),
             _standIn.Entities(Realm, "Bill").Count));
    }

    [Fact]
    public async Task Connect_with_a_refused_refresh_token_exits_with_3_and_says_why()
    {
        _standIn.NewCompany(Realm);
        await RunAsync("tenant", "create", "acme");

        var connect = await CliProcess.RunWithInputAsync(
            "RT-not-issued\n", _standIn.ProductEnvironment, "quickbooks", "connect", "--tenant", "acme", "--realm", Realm, "--data-dir", DataDirectory);

        Assert.Equal((3, true), (connect.ExitCode, connect.Error.Contains("invalid_grant", StringComparison.Ordinal)));
    }

    private async Task ImportAsync(string kind, string content)
    {
        var file = Path.Combine(_directory.Path, $"{kind}.csv");
        await File.WriteAllTextAsync(file, content);
        await RunAsync("import", kind, file, "--tenant", "acme");
    }

    private async Task<CliProcess.Result> RunAsync(params string[] arguments)
    {
        var result = await CliProcess.RunAsync([.. arguments, "--data-dir", DataDirectory]);
        Assert.True(result.ExitCode == 0, $"invisible {string.Join(' ', arguments)}: {result.Output}{result.Error}");
        return result;
    }
}
