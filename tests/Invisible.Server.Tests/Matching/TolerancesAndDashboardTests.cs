using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Grpc.Core;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Matching;

/// <summary>Tolerances (versioned, what-if) and the dashboard over real h2c gRPC against the running product.</summary>
[Collection(AccountsCollection.Name)]
public sealed class TolerancesAndDashboardTests(AccountsServer server)
{
    [Fact]
    public async Task What_if_counts_what_a_tolerance_would_clear_or_fail_without_changing_anything_and_setting_it_re_evaluates_open_exceptions()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders,
            $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,A,Item A,100,1.00\nPO-1,V1,2026-01-05,GBP,2,B,Item B,100,1.00\nPO-1,V1,2026-01-05,GBP,3,C,Item C,100,1.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\nGR-1,PO-1,2,2026-01-10,100\nGR-1,PO-1,3,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nP-1,Acme Supplies,2026-01-12,GBP,PO-1,1,A,Item A,10,1.04,10.40,10.40\n" +
            "P-2,Acme Supplies,2026-01-12,GBP,PO-1,1,B,Item B,10,1.10,11.00,11.00\n" +
            "P-3,Acme Supplies,2026-01-12,GBP,PO-1,1,C,Item C,10,1.01,10.10,10.10\n");
        await queue.DecidedOnArrivalAsync();
        await queue.TokenAsync(Roles.Admin); // signing people in is audited; do it before counting
        await queue.TokenAsync(Roles.Clerk);
        const string countsSql = "select (select count(*) from tolerances) || '/' || (select count(*) from match_decisions) || '/' || (select count(*) from audit_log)";
        var countsBefore = await queue.QuerySingleAsync<string>(countsSql);

        var looser = (await queue.MatchingAsync("PreviewTolerance", new PreviewToleranceRequest
        {
            Settings = new ToleranceSettings { PriceTolerancePercent = "5", QuantityTolerancePercent = "0", TotalTolerance = "0.05" },
        }, Roles.Clerk)).As<PreviewToleranceResponse>();
        var tighter = (await queue.MatchingAsync("PreviewTolerance", new PreviewToleranceRequest
        {
            Settings = new ToleranceSettings { PriceTolerancePercent = "0.5", QuantityTolerancePercent = "0", TotalTolerance = "0.05" },
        }, Roles.Clerk)).As<PreviewToleranceResponse>();
        var invalid = await queue.MatchingAsync("PreviewTolerance", new PreviewToleranceRequest
        {
            Settings = new ToleranceSettings { PriceTolerancePercent = "-1", QuantityTolerancePercent = "x", TotalTolerance = "0" },
        });

        Assert.Equal((2, 1, 0), (looser.OpenExceptions, looser.WouldClear, looser.WouldNewlyFail));
        Assert.Equal([new CurrencyAmount { Currency = "GBP", Amount = "10.4000" }], looser.AmountWouldPass);
        Assert.Equal((2, 0, 1), (tighter.OpenExceptions, tighter.WouldClear, tighter.WouldNewlyFail));
        Assert.Equal(StatusCode.InvalidArgument, invalid.Status);
        Assert.Equal(countsBefore, await queue.QuerySingleAsync<string>(countsSql));

        var byClerk = await queue.MatchingAsync("SetTolerance", new SetToleranceRequest
        {
            Settings = new ToleranceSettings { PriceTolerancePercent = "5", QuantityTolerancePercent = "0", TotalTolerance = "0.05" },
        }, Roles.Clerk);
        var set = (await queue.MatchingAsync("SetTolerance", new SetToleranceRequest
        {
            Settings = new ToleranceSettings { PriceTolerancePercent = "5", QuantityTolerancePercent = "0", TotalTolerance = "0.05" },
        })).As<Tolerances>();

        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (byClerk.Status, byClerk.Reason));
        Assert.Equal((2, "5.0000"), (set.TenantDefault.Version, set.TenantDefault.Settings.PriceTolerancePercent));
        Assert.StartsWith("user:", set.TenantDefault.ChangedBy, StringComparison.Ordinal);
        Assert.Equal([("exception", "engine"), ("matched", "engine")], await queue.DecisionsAsync("P-1"));
        Assert.Equal([("matched", "engine")], await queue.DecisionsAsync("P-3"));
        Assert.Equal("P-2", Assert.Single((await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest())).As<ListExceptionsResponse>().Items).Invoice.InvoiceNumber);
        Assert.Equal(1, await queue.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'tolerances.changed'"));
        var tolerance = await queue.QuerySingleAsync<(int Version, string ToleranceOfDecision)>(
            """
            select t.version, (select t2.version::text from match_decisions d join invoices i on i.id = d.invoice_id join tolerances t2 on t2.id = d.tolerance_id
                               where i.invoice_number = 'P-1' order by d.decided_at desc limit 1)
            from tolerances t where t.vendor_id is null order by t.version desc limit 1
            """);
        Assert.Equal((2, "2"), tolerance);

        // The absolute unit-price limit applies with the percentage, the stricter winning: P-2 is 0.10 over its PO price.
        async Task<(int Open, int WouldClear)> PreviewForV1Async(string absolute)
        {
            var preview = (await queue.MatchingAsync("PreviewTolerance", new PreviewToleranceRequest
            {
                VendorCode = "V1",
                Settings = new ToleranceSettings { PriceTolerancePercent = "10", PriceToleranceAbsolute = absolute, QuantityTolerancePercent = "0", TotalTolerance = "0.05" },
            })).As<PreviewToleranceResponse>();
            return (preview.OpenExceptions, preview.WouldClear);
        }

        Assert.Equal((1, 0), await PreviewForV1Async("0.05"));
        Assert.Equal((1, 1), await PreviewForV1Async("0.25"));

        // A vendor override (with an absolute limit) clears P-2 for that vendor only; removing it falls back to the default.
        var withOverride = (await queue.MatchingAsync("SetTolerance", new SetToleranceRequest
        {
            VendorCode = "V1",
            Settings = new ToleranceSettings { PriceTolerancePercent = "10", PriceToleranceAbsolute = "0.25", QuantityTolerancePercent = "0", TotalTolerance = "0.05" },
        })).As<Tolerances>();
        var removed = (await queue.MatchingAsync("SetTolerance", new SetToleranceRequest { VendorCode = "V1", RemoveOverride = true })).As<Tolerances>();
        var listed = (await queue.MatchingAsync("GetTolerances", new GetTolerancesRequest(), Roles.Auditor)).As<Tolerances>();

        var vendorOverride = Assert.Single(withOverride.VendorOverrides);
        Assert.Equal(("V1", 1, "0.2500"), (vendorOverride.VendorCode, vendorOverride.Version, vendorOverride.Settings.PriceToleranceAbsolute));
        Assert.Equal(InvoiceStatus.Matched, (await queue.InvoiceAsync("P-2")).Status);
        Assert.Empty(removed.VendorOverrides);
        Assert.Empty(listed.VendorOverrides);
        Assert.Equal(2, listed.TenantDefault.Version);
    }

    [Fact]
    public async Task Dashboard_counts_statuses_touchless_rate_reasons_ages_and_held_amounts_and_invoices_filter_sort_and_count()
    {
        var queue = await QueueTenant.CreateAsync(server, "vendor_code,name\nV1,Acme Supplies Ltd\nV2,Bolt Fasteners GmbH\n");
        await queue.ImportAsync(DocumentKind.PurchaseOrders,
            $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,A,Item A,100,1.00\nPO-1,V1,2026-01-05,GBP,2,B,Item B,100,1.00\nPO-2,V2,2026-01-05,EUR,1,Z,Bolt,100,1.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\nGR-1,PO-1,2,2026-01-10,100\nGR-2,PO-2,1,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nD-1,Acme Supplies,2026-01-12,GBP,PO-1,1,A,Item A,10,1.50,15.00,15.00\n" +
            "D-2,Acme Supplies,2026-01-13,GBP,PO-1,1,B,Item B,10,1.00,10.00,10.00\n" +
            "D-3,Bolt Fasteners,2026-01-14,EUR,PO-2,1,Z,Bolt,10,1.00,10.00,10.00\n");
        await queue.DecidedOnArrivalAsync();
        var onArrival = (await queue.MatchingAsync("GetDashboard", new GetDashboardRequest(), Roles.Auditor)).As<Dashboard>();
        await queue.ReconcileAsync();

        var dashboard = (await queue.MatchingAsync("GetDashboard", new GetDashboardRequest(), Roles.Auditor)).As<Dashboard>();
        var byTotal = (await queue.MatchingAsync("ListInvoices", new ListInvoicesRequest { Sort = InvoiceSort.Total, Descending = true, PageSize = 2 }))
            .As<ListInvoicesResponse>();
        var ofV2 = (await queue.MatchingAsync("ListInvoices", new ListInvoicesRequest { VendorCode = "V2" })).As<ListInvoicesResponse>();
        var searched = (await queue.MatchingAsync("ListInvoices", new ListInvoicesRequest { Query = "bolt" })).As<ListInvoicesResponse>();
        var matched = (await queue.MatchingAsync("ListInvoices", new ListInvoicesRequest { Status = InvoiceStatus.Matched, Sort = InvoiceSort.InvoiceNumber }))
            .As<ListInvoicesResponse>();

        Assert.Equal(dashboard.InvoicesByStatus, onArrival.InvoicesByStatus); // decided on arrival as a reconcile decides
        Assert.Equal(3, dashboard.InvoiceCount);
        Assert.Equal(
            [new StatusCount { Status = InvoiceStatus.Matched, Invoices = 2 }, new StatusCount { Status = InvoiceStatus.Exception, Invoices = 1 }],
            dashboard.InvoicesByStatus);
        Assert.Equal(2.0 / 3, dashboard.TouchlessRate, 6);
        Assert.Equal([new ReasonCount { Reason = "price_variance", Exceptions = 1 }], dashboard.ExceptionsByReason);
        Assert.Equal(["0-2 days", "3-7 days", "8-30 days", "over 30 days"], dashboard.ExceptionsByAge.Select(bucket => bucket.Label));
        Assert.Equal(1, dashboard.ExceptionsByAge.Sum(bucket => bucket.Exceptions));
        Assert.Equal([new CurrencyAmount { Currency = "GBP", Amount = "15.0000" }], dashboard.AmountHeld);
        Assert.Equal((3, "D-1", "D-2"), (byTotal.TotalCount, byTotal.Invoices[0].InvoiceNumber, byTotal.Invoices[1].InvoiceNumber));
        Assert.NotEmpty(byTotal.NextPageToken);
        Assert.Equal((1, "D-3"), (ofV2.TotalCount, ofV2.Invoices.Single().InvoiceNumber));
        Assert.Equal(["D-3"], searched.Invoices.Select(invoice => invoice.InvoiceNumber));
        Assert.Equal(["D-2", "D-3"], matched.Invoices.Select(invoice => invoice.InvoiceNumber));
    }
}
