using System.Net;
using System.Text.Json;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Server.Tests.Exceptions;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Rest;

/// <summary>
/// The REST/JSON mapping as an integrator uses it with curl and an API key: the calls of the README's "REST/JSON API"
/// section against the running product, answered in proto3 JSON (camelCase names, enum names, decimal strings).
/// </summary>
[Collection(RestCollection.Name)]
public sealed class RestApiTests(RestServer rest)
{
    [Fact]
    public async Task Invoices_are_listed_with_filters_as_query_parameters_and_read_one_by_one_in_proto3_JSON()
    {
        var (queue, _) = await ReconciledTenantAsync();
        var key = await rest.ApiKeyAsync(queue.Tenant, Roles.Clerk);

        var all = await rest.GetAsync("/v1/invoices", key);
        var exceptions = await rest.GetAsync("/v1/invoices?status=INVOICE_STATUS_EXCEPTION&pageSize=10", key);
        // The field's proto name and the enum's number are accepted as well as the JSON name and the enum name.
        var byNumber = await rest.GetAsync("/v1/invoices?status=4&page_size=10", key);
        var firstPage = await rest.GetAsync("/v1/invoices?pageSize=1&sort=INVOICE_SORT_INVOICE_NUMBER", key);
        var search = await rest.GetAsync("/v1/invoices?query=M-1", key);

        Assert.True(all.Status == HttpStatusCode.OK, all.ToString());
        Assert.Equal("application/json", all.MediaType);
        Assert.Equal(3, all.Json.GetProperty("totalCount").GetInt32());
        Assert.Equal(["P-1", "P-2"], Numbers(exceptions));
        Assert.Equal(["P-1", "P-2"], Numbers(byNumber));
        Assert.Equal(["M-1"], Numbers(firstPage));
        Assert.False(string.IsNullOrEmpty(firstPage.Json.GetProperty("nextPageToken").GetString()), firstPage.ToString());
        var matched = Assert.Single(search.Json.GetProperty("invoices").EnumerateArray());
        Assert.Equal("INVOICE_STATUS_MATCHED", matched.GetProperty("status").GetString());
        Assert.Equal("10.0000", matched.GetProperty("invoiceTotal").GetString());
        Assert.Equal(("V1", "PO-1", "GBP"), (matched.GetProperty("vendorCode").GetString(), matched.GetProperty("poNumber").GetString(), matched.GetProperty("currency").GetString()));

        var one = await rest.GetAsync($"/v1/invoices/{matched.GetProperty("invoiceId").GetString()}", key);

        Assert.True(one.Status == HttpStatusCode.OK, one.ToString());
        Assert.Equal("M-1", one.Json.GetProperty("summary").GetProperty("invoiceNumber").GetString());
        var line = Assert.Single(one.Json.GetProperty("lines").EnumerateArray());
        Assert.Equal(("LINE_STATUS_MATCHED", "PO-1"), (line.GetProperty("status").GetString(), line.GetProperty("poLine").GetProperty("poNumber").GetString()));
    }

    [Fact]
    public async Task The_dashboard_tolerances_vendors_and_imports_are_read_with_a_clerk_key()
    {
        var (queue, _) = await ReconciledTenantAsync();
        var key = await rest.ApiKeyAsync(queue.Tenant, Roles.Clerk);

        var dashboard = await rest.GetAsync("/v1/dashboard", key);
        var tolerances = await rest.GetAsync("/v1/tolerances", key);
        var vendors = await rest.GetAsync("/v1/vendors", key);
        var vendor = await rest.GetAsync("/v1/vendors/V1", key);
        var imports = await rest.GetAsync("/v1/imports?pageSize=2", key);

        Assert.True(dashboard.Status == HttpStatusCode.OK, dashboard.ToString());
        Assert.Equal(3, dashboard.Json.GetProperty("invoiceCount").GetInt32());
        Assert.Contains(dashboard.Json.GetProperty("invoicesByStatus").EnumerateArray(),
            count => count.GetProperty("status").GetString() == "INVOICE_STATUS_EXCEPTION" && count.GetProperty("invoices").GetInt32() == 2);
        Assert.True(tolerances.Status == HttpStatusCode.OK, tolerances.ToString());
        Assert.True(tolerances.Json.GetProperty("tenantDefault").TryGetProperty("settings", out _), tolerances.ToString());
        Assert.Equal("V1", Assert.Single(vendors.Json.GetProperty("vendors").EnumerateArray()).GetProperty("vendorCode").GetString());
        Assert.True(vendor.Status == HttpStatusCode.OK, vendor.ToString());
        Assert.True(imports.Status == HttpStatusCode.OK, imports.ToString());
        var newest = imports.Json.GetProperty("imports").EnumerateArray().ToList();
        Assert.Equal(2, newest.Count);
        Assert.Equal(("DOCUMENT_KIND_INVOICES", "IMPORT_STATUS_STORED"), (newest[0].GetProperty("kind").GetString(), newest[0].GetProperty("status").GetString()));
        Assert.False(string.IsNullOrEmpty(imports.Json.GetProperty("nextPageToken").GetString()), "four imports, two a page");

        var one = await rest.GetAsync($"/v1/imports/{newest[0].GetProperty("id").GetString()}", key);

        Assert.True(one.Status == HttpStatusCode.OK, one.ToString());
        Assert.Equal(3, one.Json.GetProperty("storedCount").GetInt32());
    }

    [Fact]
    public async Task An_approver_key_approves_an_exception_with_a_reason_and_it_leaves_the_open_queue_and_a_reject_closes_another()
    {
        var (queue, _) = await ReconciledTenantAsync();
        var approver = await rest.ApiKeyAsync(queue.Tenant, Roles.Approver);
        var auditor = await rest.ApiKeyAsync(queue.Tenant, Roles.Auditor);
        const string reason = "Price agreed by phone with purchasing (ticket 4711)";

        var open = await rest.GetAsync("/v1/exceptions?sort=EXCEPTION_SORT_OLDEST", approver);
        Assert.True(open.Status == HttpStatusCode.OK, open.ToString());
        var items = open.Json.GetProperty("items").EnumerateArray().ToDictionary(item => item.GetProperty("invoice").GetProperty("invoiceNumber").GetString()!);
        Assert.Equal(["P-1", "P-2"], items.Keys.Order(StringComparer.Ordinal));
        var toApprove = items["P-1"].GetProperty("id").GetString();
        var toReject = items["P-2"].GetProperty("id").GetString();

        var one = await rest.GetAsync($"/v1/exceptions/{toApprove}", approver);
        var candidates = await rest.GetAsync($"/v1/exceptions/{toApprove}/rematch-candidates", approver);
        var approved = await rest.PostAsync($"/v1/exceptions/{toApprove}:approve", approver, JsonSerializer.Serialize(new { reason }));
        var rejected = await rest.PostAsync($"/v1/exceptions/{toReject}:reject", approver, """{"reason":"Not our order"}""");
        var after = await rest.GetAsync("/v1/exceptions", approver);
        var closed = await rest.GetAsync("/v1/exceptions?states=EXCEPTION_STATE_RESOLVED&states=EXCEPTION_STATE_DISMISSED", approver);
        var audit = await rest.GetAsync("/v1/audit-entries?pageSize=50", auditor);

        Assert.True(one.Status == HttpStatusCode.OK, one.ToString());
        Assert.Equal(("price_variance", "EXCEPTION_STATE_OPEN"), (one.Json.GetProperty("reason").GetString(), one.Json.GetProperty("state").GetString()));
        Assert.True(candidates.Status == HttpStatusCode.OK, candidates.ToString());
        Assert.True(approved.Status == HttpStatusCode.OK, approved.ToString());
        Assert.Equal(
            ("EXCEPTION_STATE_RESOLVED", "INVOICE_STATUS_APPROVED", reason),
            (approved.Json.GetProperty("state").GetString(), approved.Json.GetProperty("invoice").GetProperty("status").GetString(),
                approved.Json.GetProperty("resolutionNote").GetString()));
        // As the README says: a field at its default (here: no assignee) is written too, so clients can rely on every name.
        Assert.Equal("", approved.Json.GetProperty("assigneeId").GetString());
        Assert.True(rejected.Status == HttpStatusCode.OK, rejected.ToString());
        Assert.Equal(
            ("EXCEPTION_STATE_DISMISSED", "INVOICE_STATUS_REJECTED"),
            (rejected.Json.GetProperty("state").GetString(), rejected.Json.GetProperty("invoice").GetProperty("status").GetString()));
        Assert.Equal(0, after.Json.GetProperty("totalCount").GetInt32());
        Assert.Equal(2, closed.Json.GetProperty("items").GetArrayLength());
        Assert.True(audit.Status == HttpStatusCode.OK, audit.ToString());
        var approval = Assert.Single(audit.Json.GetProperty("entries").EnumerateArray(), entry => entry.GetProperty("action").GetString() == "exceptions.approve");
        Assert.Equal(toApprove, approval.GetProperty("entityId").GetString());
        Assert.Contains(reason, approval.GetProperty("afterJson").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_is_a_POST_with_an_empty_JSON_body()
    {
        var (queue, _) = await ReconciledTenantAsync();
        var key = await rest.ApiKeyAsync(queue.Tenant, Roles.Clerk);

        var run = await rest.PostAsync("/v1/reconcile", key, "{}");

        Assert.True(run.Status == HttpStatusCode.OK, run.ToString());
        Assert.Equal(3, run.Json.GetProperty("invoiceCount").GetInt32());
    }

    private static List<string> Numbers(RestReply reply)
    {
        Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
        return reply.Json.GetProperty("invoices").EnumerateArray().Select(invoice => invoice.GetProperty("invoiceNumber").GetString()!).ToList();
    }

    /// <summary>
    /// A tenant with one matched invoice (M-1) and two price-variance exceptions (P-1, P-2), imported as the CLI does and
    /// reconciled over gRPC.
    /// </summary>
    internal async Task<(QueueTenant Queue, string AdminToken)> ReconciledTenantAsync()
    {
        var queue = await QueueTenant.CreateAsync(rest.Accounts);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,W-1,Widget,100,1.00\nPO-1,V1,2026-01-05,GBP,2,N-1,Nails,10,2.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\nGR-1,PO-1,2,2026-01-10,10\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nM-1,Acme Supplies,2026-01-12,GBP,PO-1,1,W-1,Widget,10,1.00,10.00,10.00\n" +
            "P-1,Acme Supplies,2026-01-13,GBP,PO-1,2,N-1,Nails,10,3.00,30.00,30.00\n" +
            "P-2,Acme Supplies,2026-01-14,GBP,PO-1,1,W-1,Widget,5,2.00,10.00,10.00\n");
        await queue.ReconcileAsync();
        return (queue, await queue.TokenAsync(Roles.Admin));
    }
}
