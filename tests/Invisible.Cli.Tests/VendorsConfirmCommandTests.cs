using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Cli.Tests;

/// <summary>
/// <c>invisible vendors confirm</c> as an operator runs it: printed names given one by one (--name/--vendor, repeatable) and
/// in a file become confirmed names of their vendors, audited, and the invoices printing them are resolved at once.
/// </summary>
public sealed class VendorsConfirmCommandTests : IDisposable
{
    private const string InvoiceHeader = "invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total";

    private readonly TemporaryDirectory _directory = new("invisible-cli-vendors-confirm-");

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    [Fact]
    public async Task Names_given_on_the_command_line_and_in_a_file_become_audited_confirmed_names_the_resolver_uses_at_once()
    {
        var tenantId = await TenantWithUnresolvedInvoicesAsync();
        var file = Path.Combine(_directory.Path, "names.csv");
        await File.WriteAllTextAsync(file, "name,vendor_code\nWile E. Coyote Industries,V1\n");

        var confirmed = await RunAsync(
            "vendors", "confirm", "--tenant", "acme", "--name", "Roadrunner Trading", "--vendor", "V2", "--name", "ACME Rockets", "--vendor", "V1", "--file", file);

        await using var product = await LocalProduct.OpenAsync(DataDirectory, CancellationToken.None);
        await using var unitOfWork = await product.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenantId, CancellationToken.None);
        var aliases = (await unitOfWork.Db.RowsAsync<(string, string, string, string)>(
            """
            select a.value, v.vendor_code, a.decision, a.created_by from vendor_aliases a join vendors v on v.id = a.vendor_id
            where a.source = 'reviewer' order by a.value
            """)).ToList();
        var audited = (await unitOfWork.Db.RowsAsync<string>(
            "select after->>'printedName' from audit_log where action = 'vendors.alias_confirmed' and after->>'decision' = 'operator' order by 1")).ToList();
        var resolved = (await unitOfWork.Db.RowsAsync<(string, string)>(
            "select i.invoice_number, v.vendor_code from invoices i join vendors v on v.id = i.vendor_id order by i.invoice_number")).ToList();

        Assert.Equal(
            ("3 name(s) confirmed",
                "ACME Rockets→V1 (operator); Roadrunner Trading→V2 (operator); Wile E. Coyote Industries→V1 (operator)",
                "ACME Rockets; Roadrunner Trading; Wile E. Coyote Industries",
                "X-1→V2; X-2→V1; X-3→V1"),
            (confirmed.Output.Contains("3 name(s) confirmed", StringComparison.Ordinal) ? "3 name(s) confirmed" : confirmed.Output,
                string.Join("; ", aliases.Select(alias => $"{alias.Item1}→{alias.Item2} ({alias.Item3})")),
                string.Join("; ", audited),
                string.Join("; ", resolved.Select(invoice => $"{invoice.Item1}→{invoice.Item2}"))));
        Assert.All(aliases, alias => Assert.StartsWith("operator", alias.Item4, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Names_and_vendors_that_do_not_pair_up_or_an_unknown_vendor_exit_with_2_and_confirm_nothing()
    {
        await TenantWithUnresolvedInvoicesAsync();

        var unpaired = await CliProcess.RunAsync(
            "vendors", "confirm", "--tenant", "acme", "--name", "Roadrunner Trading", "--name", "ACME Rockets", "--vendor", "V2", "--data-dir", DataDirectory);
        var unknown = await CliProcess.RunAsync(
            "vendors", "confirm", "--tenant", "acme", "--name", "Roadrunner Trading", "--vendor", "V404", "--data-dir", DataDirectory);

        Assert.Equal((2, 2), (unpaired.ExitCode, unknown.ExitCode));
        Assert.Contains("one --vendor for each --name", unpaired.Error, StringComparison.Ordinal);
        Assert.Contains("V404", unknown.Error, StringComparison.Ordinal);
    }

    /// <summary>Tenant acme with two vendors and three invoices printing names no vendor resembles, reconciled (unresolved).</summary>
    private async Task<Guid> TenantWithUnresolvedInvoicesAsync()
    {
        await RunAsync("tenant", "create", "acme");
        var vendors = Path.Combine(_directory.Path, "vendors.csv");
        await File.WriteAllTextAsync(vendors, "vendor_code,name\nV1,Acme Supplies Ltd\nV2,Bluewater Hardware Ltd\n");
        var invoices = Path.Combine(_directory.Path, "invoices.csv");
        await File.WriteAllTextAsync(invoices,
            $"{InvoiceHeader}\n" +
            "X-1,Roadrunner Trading,2026-01-12,GBP,,1,H-1,Hinge,10,1.00,10.00,10.00\n" +
            "X-2,ACME Rockets,2026-01-13,GBP,,1,R-1,Rocket,1,5.00,5.00,5.00\n" +
            "X-3,Wile E. Coyote Industries,2026-01-14,GBP,,1,A-1,Anvil,1,7.00,7.00,7.00\n");
        await RunAsync("import", "vendors", vendors, "--tenant", "acme");
        await RunAsync("import", "invoices", invoices, "--tenant", "acme");
        await RunAsync("reconcile", "--tenant", "acme");
        await using var product = await LocalProduct.OpenAsync(DataDirectory, CancellationToken.None);
        var tenant = await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync("acme", CancellationToken.None);
        await using var unitOfWork = await product.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenant!.Id, CancellationToken.None);
        Assert.Equal(0L, (await unitOfWork.Db.RowsAsync<long>("select count(*) from invoices where vendor_id is not null")).Single());
        return tenant.Id;
    }

    private async Task<CliProcess.Result> RunAsync(params string[] arguments)
    {
        var result = await CliProcess.RunAsync([.. arguments, "--data-dir", DataDirectory]);
        Assert.True(result.ExitCode == 0, $"invisible {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.Output}\n{result.Error}");
        return result;
    }

    public void Dispose() => _directory.Dispose();
}
