using Invisible.Testing;

namespace Invisible.Cli.Tests;

public sealed class ImportCommandTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("invisible-cli-import-");

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    [Fact]
    public async Task Import_stores_a_file_reports_a_repeat_as_duplicate_and_lists_the_errors_of_a_rejected_file_with_exit_code_1()
    {
        var created = await CliProcess.RunAsync("tenant", "create", "acme", "--data-dir", DataDirectory);
        Assert.True(created.ExitCode == 0, created.Error);
        var vendors = await WriteAsync("vendors.csv", """
            vendor_code;name;country
            V1;Acme Supplies Ltd;GB
            V2;Bolt & Nut GmbH;DE
            """);
        var orders = await WriteAsync("purchase_orders.csv", """
            po_number;vendor_code;order_date;currency;line_no;description;quantity;unit_price
            PO-1;V1;05.01.2026;GBP;1;Paper A4;1.000;3,50
            PO-2;V9;06.01.2026;EUR;1;Bolts M8;100;0,25
            PO-3;V2;07.01.2026;EUR;1;Nuts M8;-5;0,10
            """);

        var stored = await CliProcess.RunAsync("import", "vendors", vendors, "--tenant", "acme", "--data-dir", DataDirectory);
        var again = await CliProcess.RunAsync("import", "vendors", vendors, "--tenant", "acme", "--data-dir", DataDirectory);
        var rejected = await CliProcess.RunAsync(
            "import", "purchase-orders", orders, "--tenant", "acme", "--culture", "de-DE", "--delimiter", ";", "--date-format", "dd.MM.yyyy",
            "--data-dir", DataDirectory);

        Assert.True(stored.ExitCode == 0, stored.Output + stored.Error);
        Assert.Contains("Stored vendors.csv: 2 rows read, 2 stored (2 new", stored.Output, StringComparison.Ordinal);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("Duplicate file: vendors.csv", again.Output, StringComparison.Ordinal);
        Assert.Equal(1, rejected.ExitCode);
        Assert.Contains("Rejected purchase_orders.csv: 2 errors; nothing was stored", rejected.Output, StringComparison.Ordinal);
        Assert.Matches(@"│ 3 +│ vendor_code +│ V9 +│ no vendor with this code", rejected.Output);
        Assert.Matches(@"│ 4 +│ quantity +│ -5 +│", rejected.Output);
    }

    [Fact]
    public async Task Bench_data_output_imports_cleanly_duplicates_and_wrong_header_totals_included()
    {
        var files = Path.Combine(_directory.Path, "generated");
        var generated = await CliProcess.RunAsync("bench-data", "--invoices", "3000", "--seed", "11", "--out", files);
        Assert.True(generated.ExitCode == 0, generated.Output + generated.Error);
        var created = await CliProcess.RunAsync("tenant", "create", "gen", "--data-dir", DataDirectory);
        Assert.True(created.ExitCode == 0, created.Error);
        var invoiceRows = File.ReadLines(Path.Combine(files, "invoices.csv")).Count() - 1;

        foreach (var (verb, file) in new[] { ("vendors", "vendors.csv"), ("purchase-orders", "purchase_orders.csv"), ("receipts", "receipts.csv"), ("invoices", "invoices.csv") })
        {
            var imported = await CliProcess.RunAsync("import", verb, Path.Combine(files, file), "--tenant", "gen", "--data-dir", DataDirectory);
            Assert.True(imported.ExitCode == 0, $"{file}: {imported.Output}{imported.Error}");
            Assert.Contains($"Stored {file}", imported.Output, StringComparison.Ordinal);
            if (file == "invoices.csv")
            {
                Assert.Contains($"{invoiceRows:N0} rows read, {invoiceRows:N0} stored", imported.Output, StringComparison.Ordinal);

                // The generator makes about 1 % of header totals wrong on purpose: stored, with a warning.
                Assert.Contains("declare an invoice_total other than the sum", imported.Output, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Import_exits_with_2_for_an_unknown_tenant_a_missing_file_or_an_unknown_culture()
    {
        var file = await WriteAsync("vendors.csv", "vendor_code,name\nV1,Acme\n");

        var unknownTenant = await CliProcess.RunAsync("import", "vendors", file, "--tenant", "nobody", "--data-dir", DataDirectory);
        var missingFile = await CliProcess.RunAsync("import", "vendors", Path.Combine(_directory.Path, "missing.csv"), "--data-dir", DataDirectory);
        var unknownCulture = await CliProcess.RunAsync("import", "vendors", file, "--culture", "xx-NOPE", "--data-dir", DataDirectory);

        Assert.Equal((2, 2, 2), (unknownTenant.ExitCode, missingFile.ExitCode, unknownCulture.ExitCode));
        Assert.Contains("No tenant 'nobody'", unknownTenant.Error, StringComparison.Ordinal);
        Assert.Contains("missing.csv: no such file", missingFile.Error, StringComparison.Ordinal);
        Assert.Contains("--culture 'xx-NOPE'", unknownCulture.Error, StringComparison.Ordinal);
    }

    private async Task<string> WriteAsync(string name, string content)
    {
        var path = Path.Combine(_directory.Path, name);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    public void Dispose() => _directory.Dispose();
}
