using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Ingestion;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Vendors;

/// <summary>
/// Every decision in which a person says which vendor a printed name is records the name as a confirmed alias (who, when,
/// from which decision), audited; the next decisions use it at once and the model retrains on it in the background.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class ConfirmedAliasTests(AccountsServer server)
{
    private const string Vendors = "vendor_code,name\nV1,Acme Supplies Ltd\nV2,Bluewater Hardware Ltd\n";
    private const string PurchaseOrder = $"{QueueTenant.PoHeader}\nPO-1,V2,2026-01-05,GBP,1,H-1,Hinge,100,1.00\n";

    [Fact]
    public async Task Assigning_a_vendor_records_the_printed_name_audited_and_re_decides_every_invoice_printing_it()
    {
        var queue = await UnresolvedInvoicesAsync();
        var item = await queue.OpenExceptionOfAsync("X-1");

        var assigned = (await queue.ExceptionsAsync("AssignVendor", new AssignVendorRequest { ExceptionId = item.Id, VendorCode = "V2" }, Roles.Clerk))
            .As<ExceptionItem>();

        var reviewerId = await queue.UserIdAsync(Roles.Clerk);
        Assert.Equal(("V2", "V2"), (assigned.Invoice.VendorCode, (await queue.InvoiceAsync("X-2")).VendorCode));
        Assert.Equal(
            [("Roadrunner Trading", "reviewer", "assign_vendor", $"user:{reviewerId}", "V2")],
            await ConfirmedAliasesAsync(queue));
        Assert.Equal(1, await queue.QuerySingleAsync<int>(
            "select count(*)::int from audit_log where action = 'vendors.alias_confirmed' and entity_id = 'V2' and after->>'decision' = 'assign_vendor'"));
    }

    [Fact]
    public async Task Assigning_a_vendor_in_bulk_records_the_name_once_and_resolves_each_selected_invoice()
    {
        var queue = await UnresolvedInvoicesAsync();
        var items = new[] { await queue.OpenExceptionOfAsync("X-1"), await queue.OpenExceptionOfAsync("X-2") };

        var bulk = (await queue.ExceptionsAsync("BulkAction", new BulkActionRequest
        {
            Action = BulkActionKind.AssignVendor, VendorCode = "V2", ExceptionIds = { items.Select(item => item.Id) },
        }, Roles.Clerk)).As<BulkActionResponse>();

        Assert.Equal([(true, ""), (true, "")], bulk.Results.Select(result => (result.Ok, result.Error)));
        Assert.Single(await ConfirmedAliasesAsync(queue));
        Assert.Equal(("V2", "V2"), ((await queue.InvoiceAsync("X-1")).VendorCode, (await queue.InvoiceAsync("X-2")).VendorCode));
    }

    [Fact]
    public async Task Re_matching_to_a_vendors_PO_records_the_printed_name_as_that_vendors()
    {
        var queue = await UnresolvedInvoicesAsync();
        var item = await queue.OpenExceptionOfAsync("X-1");

        await queue.ExceptionsAsync("RematchException", new RematchExceptionRequest { ExceptionId = item.Id, PoNumber = "PO-1", Reason = "Delivery note" }, Roles.Approver);

        var approverId = await queue.UserIdAsync(Roles.Approver);
        Assert.Equal([("Roadrunner Trading", "reviewer", "rematch", $"user:{approverId}", "V2")], await ConfirmedAliasesAsync(queue));
    }

    [Fact]
    public async Task Approving_an_invoice_whose_vendor_the_engine_guessed_confirms_the_guess()
    {
        var queue = await QueueTenant.CreateAsync(server, Vendors);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, PurchaseOrder);
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nG-1,Bluewater Hardwear,2026-01-12,GBP,PO-1,1,H-1,Hinge,10,1.50,15.00,15.00\n");
        await queue.DecidedOnArrivalAsync();
        var item = await queue.OpenExceptionOfAsync("G-1");

        await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "Price agreed by phone" }, Roles.Approver);

        var approverId = await queue.UserIdAsync(Roles.Approver);
        Assert.Equal("V2", item.Invoice.VendorCode);
        Assert.Equal([("Bluewater Hardwear", "reviewer", "approve_guess", $"user:{approverId}", "V2")], await ConfirmedAliasesAsync(queue));
    }

    [Fact]
    public async Task A_confirmed_name_makes_the_background_retraining_store_a_new_model_version()
    {
        var queue = await UnresolvedInvoicesAsync();
        var before = await queue.QuerySingleAsync<int>("select coalesce(max(version), 0) from similarity_models");
        var item = await queue.OpenExceptionOfAsync("X-1");

        await queue.ExceptionsAsync("AssignVendor", new AssignVendorRequest { ExceptionId = item.Id, VendorCode = "V2" }, Roles.Clerk);

        await QueueTenant.EventuallyAsync(
            async () => await queue.QuerySingleAsync<int>(
                "select count(*)::int from similarity_models where is_active and version = @next and (metrics->>'reviewerPairs')::int = 1",
                new { next = before + 1 }) == 1,
            "a new active model version trained on the confirmed name");
    }

    [Fact]
    public async Task A_name_confirmed_for_one_vendor_teaches_its_words_and_resolves_another_vendors_invoice_in_the_same_action()
    {
        var queue = await QueueTenant.CreateAsync(server,
            "vendor_code,name\nPHIL,Koninklijke Philips N.V.\nAHOL,Koninklijke Ahold Delhaize N.V.\nKPN,Koninklijke KPN N.V.\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nR-1,Royal Philips,2026-01-12,EUR,,1,L-1,Lamp,10,1.00,10.00,10.00\n" +
            "R-2,Royal Ahold Delhaize,2026-01-13,EUR,,1,F-1,Food,5,1.00,5.00,5.00\n");
        await queue.DecidedOnArrivalAsync();
        var before = (await queue.InvoiceAsync("R-2")).VendorCode;
        var item = await queue.OpenExceptionOfAsync("R-1");

        await queue.ExceptionsAsync("AssignVendor", new AssignVendorRequest { ExceptionId = item.Id, VendorCode = "PHIL" }, Roles.Clerk);

        Assert.Equal(("", "AHOL"), (before, (await queue.InvoiceAsync("R-2")).VendorCode));
    }

    /// <summary>Two invoices printing a name no vendor resembles, both in the queue as no_po.</summary>
    private async Task<QueueTenant> UnresolvedInvoicesAsync()
    {
        var queue = await QueueTenant.CreateAsync(server, Vendors);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, PurchaseOrder);
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nX-1,Roadrunner Trading,2026-01-12,GBP,,1,H-1,Hinge,10,1.00,10.00,10.00\n" +
            "X-2,ROADRUNNER TRADING LTD,2026-01-13,GBP,,1,H-1,Hinge,5,1.00,5.00,5.00\n");
        await queue.DecidedOnArrivalAsync();
        return queue;
    }

    private static async Task<List<(string Value, string Source, string Decision, string CreatedBy, string VendorCode)>> ConfirmedAliasesAsync(QueueTenant queue) =>
        (await queue.QueryAsync<(string, string, string, string, string)>(
            """
            select a.value, a.source, a.decision, a.created_by, v.vendor_code from vendor_aliases a join vendors v on v.id = a.vendor_id
            where a.source = 'reviewer' order by a.created_at
            """)).ToList();
}
