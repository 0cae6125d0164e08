using System.Text.Json.Nodes;
using Grpc.Core;
using Google.Protobuf;
using Invisible.Contracts.QuickBooks.V1;
using Invisible.Server.QuickBooks;
using Invisible.Server.Tests.Accounts;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.QuickBooks;

/// <summary>Settings → QuickBooks → Mapping over real gRPC: lists read from the company, per-vendor choices, items, tax codes, currencies.</summary>
[Collection(QuickBooksCollection.Name)]
public sealed class QuickBooksMappingTests(QuickBooksServer server)
{
    [Fact]
    public async Task The_mapping_screens_choose_from_the_companys_expense_accounts_items_vendors_and_tax_codes()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ConnectAsync();
        tenant.Company.Add("Account", new JsonObject { ["Name"] = "Undeposited Funds", ["AccountType"] = "Other Current Asset" });
        tenant.Company.Add("Item", new JsonObject { ["Name"] = "Paper stock", ["Type"] = "NonInventory" });
        tenant.Company.Add("TaxCode", new JsonObject { ["Name"] = "20.0% S" });

        var lists = (await CallAsync(tenant, "GetCompanyLists", new GetCompanyListsRequest())).As<CompanyLists>();

        Assert.Equal(
            ("Office Expenses", "Paper stock", "ACME Supplies Ltd", "20.0% S"),
            (string.Join(",", lists.ExpenseAccounts.Select(c => c.Name)), string.Join(",", lists.Items.Select(c => c.Name)),
             string.Join(",", lists.Vendors.Select(c => c.Name)), string.Join(",", lists.TaxCodes.Select(c => c.Name))));
    }

    [Fact]
    public async Task A_vendor_mapped_to_an_item_exports_its_waiting_invoice_at_once_with_item_lines_and_the_tax_code_and_the_change_is_audited()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server, vendorInQuickBooks: false);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        await tenant.ExportAsync();
        var waitingReason = (await tenant.ExportStateAsync()).Reason;
        var qboVendor = tenant.Company.Add("Vendor", new JsonObject { ["DisplayName"] = "Acme (paper)" })["Id"]!.GetValue<string>();
        var item = tenant.Company.Add("Item", new JsonObject { ["Name"] = "Paper stock", ["Type"] = "NonInventory" })["Id"]!.GetValue<string>();
        var taxCode = tenant.Company.Add("TaxCode", new JsonObject { ["Name"] = "20.0% S" })["Id"]!.GetValue<string>();
        var vendorId = await tenant.Queue.QuerySingleAsync<Guid>("select id from vendors where vendor_code = 'V1'");

        var configured = await CallAsync(tenant, "Configure", new ConfigureRequest { DefaultTaxCodeId = taxCode });
        var byClerk = await CallAsync(tenant, "SetVendorMapping", new SetVendorMappingRequest { VendorId = vendorId.ToString(), QboVendorId = qboVendor }, Roles.Clerk);
        var mapped = (await CallAsync(tenant, "SetVendorMapping", new SetVendorMappingRequest { VendorId = vendorId.ToString(), QboVendorId = qboVendor, ItemId = item }))
            .As<VendorMapping>();

        var line = Assert.Single(tenant.Bills)["Line"]![0]!["ItemBasedExpenseLineDetail"]!;
        Assert.Equal(
            (true, StatusCode.OK, StatusCode.PermissionDenied, ("Acme (paper)", item, "user"), QuickBooksExportState.Exported, item, taxCode, 1),
            (waitingReason!.StartsWith("Map this vendor", StringComparison.Ordinal), configured.Status, byClerk.Status, (mapped.QboVendorName, mapped.ItemId, mapped.Source),
             (await tenant.ExportStateAsync()).State, line["ItemRef"]!["value"]!.GetValue<string>(), line["TaxCodeRef"]!["value"]!.GetValue<string>(),
             await tenant.Queue.QuerySingleAsync<int>(
                 "select count(*)::int from audit_log where action = 'quickbooks.vendor_mapped' and actor = @admin",
                 new { admin = (await tenant.Queue.UserIdAsync(Roles.Admin)).ToString() })));
    }

    [Fact]
    public async Task An_invoice_in_another_currency_than_its_QuickBooks_vendor_waits_with_the_reason()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server, vendorInQuickBooks: false);
        tenant.Company.Add("Vendor", new JsonObject { ["DisplayName"] = "Acme Supplies Ltd", ["CurrencyRef"] = new JsonObject { ["value"] = "EUR" } });
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();

        var summary = await tenant.ExportAsync();

        var reason = (await tenant.ExportStateAsync()).Reason;
        Assert.Equal(
            (1, 0, true),
            (summary.Waiting, tenant.Bills.Count, reason!.Contains("is in GBP but the QuickBooks vendor Acme Supplies Ltd is kept in EUR", StringComparison.Ordinal)));
    }

    private static async Task<RpcReply> CallAsync(QuickBooksTenant tenant, string method, IMessage request, string role = Roles.Admin) =>
        await tenant.Queue.Tenant.CallAsync(QuickbooksReflection.Descriptor.Services[0].FindMethodByName(method), request, await tenant.Queue.TokenAsync(role));
}
