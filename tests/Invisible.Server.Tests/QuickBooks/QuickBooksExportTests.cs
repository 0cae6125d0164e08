using Invisible.Testing.QuickBooks;
using System.Net;
using System.Text;
using Invisible.Server.QuickBooks;
using Invisible.Server.Tests.Exceptions;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Ingestion;
using Grpc.Core;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.QuickBooks;

/// <summary>Matched invoices become Bills in a stand-in QuickBooks company, once, and later changes there are flagged.</summary>
[Collection(QuickBooksCollection.Name)]
public sealed class QuickBooksExportTests(QuickBooksServer server)
{
    [Fact]
    public async Task A_matched_invoice_becomes_a_Bill_by_itself_once_the_company_is_connected()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ConnectAsync();

        await tenant.ImportMatchedInvoiceAsync();

        await QueueTenant.EventuallyAsync(async () => (await tenant.ExportStateAsync()).State == QuickBooksExportState.Exported, "A-1 is exported");
        var bill = Assert.Single(tenant.Bills);
        var line = bill["Line"]![0]!;
        Assert.Equal(
            (tenant.VendorId, "A-1", "2026-01-12", "2026-02-11", "PO PO-1", 100.00m, "1", tenant.PurchaseOrderId, (await tenant.ExportStateAsync()).QboId),
            (bill["VendorRef"]!["value"]!.GetValue<string>(), bill["DocNumber"]!.GetValue<string>(), bill["TxnDate"]!.GetValue<string>(),
             bill["DueDate"]!.GetValue<string>(), bill["PrivateNote"]!.GetValue<string>(), bill["TotalAmt"]!.GetValue<decimal>(),
             line["AccountBasedExpenseLineDetail"]!["AccountRef"]!["value"]!.GetValue<string>(), line["LinkedTxn"]![0]!["TxnId"]!.GetValue<string>(),
             bill["Id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_exception_approved_by_a_reviewer_becomes_a_Bill_by_itself()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ConnectAsync();
        // 12 invoiced against 10 ordered and received: a quantity exception the engine does not match, so only an approval exports it.
        await tenant.Queue.ImportAsync(
            DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nQ-1,Acme Supplies,2026-01-12,GBP,PO-1,1,P-A4,Paper A4,12,10.00,120.00,120.00\n");
        await tenant.Queue.DecidedOnArrivalAsync();
        var exception = await tenant.Queue.OpenExceptionOfAsync("Q-1");
        var notExportedWhileOpen = tenant.Bills.Count;

        var approved = await tenant.Queue.ExceptionsAsync(
            "ApproveException", new ApproveExceptionRequest { ExceptionId = exception.Id, Reason = "Two extra reams accepted by purchasing" }, Roles.Approver);

        await QueueTenant.EventuallyAsync(async () => (await tenant.ExportStateAsync("Q-1")).State == QuickBooksExportState.Exported, "Q-1 is exported after its approval");
        var bill = Assert.Single(tenant.Bills);
        Assert.Equal(
            (StatusCode.OK, 0, "Q-1", 120.00m, (await tenant.ExportStateAsync("Q-1")).QboId),
            (approved.Status, notExportedWhileOpen, bill["DocNumber"]!.GetValue<string>(), bill["TotalAmt"]!.GetValue<decimal>(), bill["Id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Exporting_again_creates_nothing_new()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        var first = await tenant.ExportAsync();

        var second = await tenant.ExportAsync();

        Assert.Equal((1, 0, 1, 0, 1), (first.Created, first.AlreadyThere, second.AlreadyThere, second.Created, tenant.Bills.Count));
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_is_sent_again_with_the_same_requestid_and_makes_no_second_Bill()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        server.StandIn.LoseNextCreateAnswer();
        var lost = await tenant.ExportAsync();

        var again = await tenant.ExportAsync();

        Assert.Equal(
            (1, 1, QuickBooksExportState.Exported, 1, tenant.Bills[0]["Id"]!.GetValue<string>()),
            (lost.Waiting, again.Created, (await tenant.ExportStateAsync()).State, tenant.Bills.Count, (await tenant.ExportStateAsync()).QboId));
    }

    [Fact]
    public async Task A_storm_of_throttled_answers_is_waited_out_and_the_Bill_made_once()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        var throttledBefore = server.StandIn.ThrottledAnswers;
        server.StandIn.Throttle(3);

        var summary = await tenant.ExportAsync();

        Assert.Equal((1, 1, 3), (summary.Created, tenant.Bills.Count, server.StandIn.ThrottledAnswers - throttledBefore));
    }

    [Fact]
    public async Task The_rotated_refresh_token_is_the_one_stored_so_a_new_process_refreshes_with_it()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ConnectAsync();
        // Two refreshes: each makes QuickBooks rotate the refresh token and refuse the one before.
        await server.Get<QuickBooksConnections>().SessionAsync(tenant.TenantId, CancellationToken.None, refreshNow: true);
        await server.Get<QuickBooksConnections>().SessionAsync(tenant.TenantId, CancellationToken.None, refreshNow: true);

        // A new instance holds nothing in memory, as after a restart: only what the database kept.
        var afterRestart = await server.Get<QuickBooksConnections>().SessionAsync(tenant.TenantId, CancellationToken.None, refreshNow: true);
        var pastedTokenRefused = await Assert.ThrowsAsync<QuickBooksGrantRefusedException>(
            () => server.Get<QuickBooksOAuth>().RefreshAsync(tenant.RefreshToken, CancellationToken.None));

        Assert.Equal((tenant.RealmId, "invalid_grant"), (afterRestart.RealmId, pastedTokenRefused.Error));
    }

    [Fact]
    public async Task A_refused_refresh_token_asks_for_the_company_to_be_connected_again()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ConnectAsync();
        server.StandIn.RevokeAllTokensOf(tenant.RealmId);

        await Assert.ThrowsAsync<QuickBooksNotConnectedException>(
            () => server.Get<QuickBooksConnections>().SessionAsync(tenant.TenantId, CancellationToken.None, refreshNow: true));

        Assert.Equal(QuickBooksConnectionStatus.NeedsReconnect, (await server.Get<QuickBooksConnections>().FindAsync(tenant.TenantId, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task An_invoice_whose_vendor_is_not_in_QuickBooks_waits_for_its_mapping_unless_vendors_may_be_created()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server, vendorInQuickBooks: false);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync(createMissingVendors: false);
        var waiting = await tenant.ExportAsync();
        var reason = (await tenant.ExportStateAsync()).Reason;

        await server.Get<QuickBooksConnections>().ConfigureAsync(tenant.TenantId, null, createMissingVendors: true, "tester", null, CancellationToken.None);
        var created = await tenant.ExportAsync();

        Assert.Equal(
            (1, true, 1, "Acme Supplies Ltd", "GB 123 456"),
            (waiting.Waiting, reason!.StartsWith("Map this vendor", StringComparison.Ordinal), created.Created,
             server.StandIn.Entities(tenant.RealmId, "Vendor").Single()["DisplayName"]!.GetValue<string>(),
             server.StandIn.Entities(tenant.RealmId, "Vendor").Single()["TaxIdentifier"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_Bill_edited_in_QuickBooks_is_flagged_as_differing_through_the_webhook()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        await tenant.ExportAsync();
        var billId = tenant.Bills[0]["Id"]!.GetValue<string>();
        server.StandIn.EditBill(tenant.RealmId, billId, bill =>
        {
            bill["Line"]![0]!["Amount"] = 90.00m;
            bill["TotalAmt"] = 90.00m;
        });

        var (body, signature) = StandInQuickBooks.WebhookNotification(tenant.RealmId, "Bill", billId, "Update");
        using var answer = await PostWebhookAsync(body, signature);

        var (state, _, reason) = await tenant.ExportStateAsync();
        Assert.Equal((HttpStatusCode.OK, QuickBooksExportState.Differs, true), (answer.StatusCode, state, reason!.Contains("total: sent 100.00, QuickBooks has 90.00", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_webhook_with_a_forged_signature_is_refused_and_changes_nothing()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        await tenant.ExportAsync();
        var billId = tenant.Bills[0]["Id"]!.GetValue<string>();
        tenant.Company.Delete("Bill", billId);

        var (body, forged) = StandInQuickBooks.WebhookNotification(tenant.RealmId, "Bill", billId, "Delete", verifierToken: "not-the-verifier-token");
        using var answer = await PostWebhookAsync(body, forged);

        Assert.Equal((HttpStatusCode.Unauthorized, QuickBooksExportState.Exported), (answer.StatusCode, (await tenant.ExportStateAsync()).State));
    }

    [Fact]
    public async Task A_Bill_deleted_in_QuickBooks_is_flagged_by_the_change_data_capture()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        await tenant.ExportAsync();
        tenant.Company.Delete("Bill", tenant.Bills[0]["Id"]!.GetValue<string>());

        await server.Get<QuickBooksChangeCapture>().CaptureAsync(tenant.TenantId, CancellationToken.None);

        Assert.Equal((QuickBooksExportState.Differs, "Differs in QuickBooks: deleted in QuickBooks"), ((await tenant.ExportStateAsync()).State, (await tenant.ExportStateAsync()).Reason));
    }

    private async Task<HttpResponseMessage> PostWebhookAsync(string body, string signature)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Server.Endpoints.Http) };
        using var request = new HttpRequestMessage(HttpMethod.Post, QuickBooksWebhook.Path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(QuickBooksWebhook.SignatureHeader, signature);
        return await http.SendAsync(request);
    }
}

/// <summary>Connecting from the web app: the authorization-code flow through the stand-in's authorize page.</summary>
[Collection(QuickBooksCollection.Name)]
public sealed class QuickBooksOAuthTests(QuickBooksServer server)
{
    [Fact]
    public async Task The_authorization_code_flow_connects_the_company_once_and_a_replayed_state_is_refused()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        server.StandIn.ConsentRealm = tenant.RealmId;
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var start = await tenant.Queue.Tenant.CallAsync(
            Invisible.Contracts.QuickBooks.V1.QuickbooksReflection.Descriptor.Services[0].FindMethodByName("StartConnect"),
            new Invisible.Contracts.QuickBooks.V1.StartConnectRequest { RedirectUri = server.Server.Endpoints.Http.TrimEnd('/') + "/quickbooks/callback" },
            await tenant.Queue.TokenAsync(Identity.Roles.Admin));
        var authorizeUrl = start.As<Invisible.Contracts.QuickBooks.V1.StartConnectResponse>().AuthorizeUrl;

        using var consent = await browser.GetAsync(new Uri(authorizeUrl));
        using var callback = await browser.GetAsync(consent.Headers.Location);
        using var replayed = await browser.GetAsync(consent.Headers.Location);

        var connection = await server.Get<QuickBooksConnections>().FindAsync(tenant.TenantId, CancellationToken.None);
        Assert.Equal(
            ("/settings/quickbooks?quickbooks=connected", "/settings/quickbooks?quickbooks=expired", QuickBooksConnectionStatus.Connected, "Stand-in Books Ltd", true),
            (callback.Headers.Location?.OriginalString, replayed.Headers.Location?.OriginalString, connection?.Status, connection?.CompanyName,
             authorizeUrl.Contains("scope=com.intuit.quickbooks.accounting", StringComparison.Ordinal)));
    }
}

/// <summary>A QuickBooks Fault fails the export with its reason until someone retries it as a new attempt.</summary>
[Collection(QuickBooksCollection.Name)]
public sealed class QuickBooksFaultTests(QuickBooksServer server)
{
    [Fact]
    public async Task A_refused_Bill_fails_with_the_fault_and_a_retry_is_a_new_attempt_that_creates_it()
    {
        var tenant = await QuickBooksTenant.CreateAsync(server);
        await tenant.ImportMatchedInvoiceAsync();
        await tenant.ConnectAsync();
        server.StandIn.RefuseNextCreate();
        var refused = await tenant.ExportAsync();
        var (_, _, reason) = await tenant.ExportStateAsync();
        var rerun = await tenant.ExportAsync();
        var invoiceId = await tenant.Queue.QuerySingleAsync<Guid>("select id from invoices where invoice_number = 'A-1'");

        var retried = await server.Get<QuickBooksExporter>().RetryAsync(tenant.TenantId, invoiceId, "tester", null, CancellationToken.None);

        Assert.Equal(
            (1, true, 1, 0, 1, 1, 2),
            (refused.Failed, reason!.Contains("ValidationFault 6000", StringComparison.Ordinal), rerun.Failed, rerun.Created, retried.Created, tenant.Bills.Count,
             await tenant.Queue.QuerySingleAsync<int>("select attempt from quickbooks_exports")));
    }
}
