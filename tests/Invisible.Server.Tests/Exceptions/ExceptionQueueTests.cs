using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform.Events;
using Grpc.Core;
using Invisible.Server.Tests.Accounts;
using Microsoft.Extensions.DependencyInjection;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Exceptions;

/// <summary>The exception queue over real h2c gRPC against the running product (its outbox dispatcher and subscribers included).</summary>
[Collection(AccountsCollection.Name)]
public sealed class ExceptionQueueTests(AccountsServer server)
{
    [Fact]
    public async Task Nothing_received_awaits_receipt_and_a_receipt_import_matches_it_with_no_user_action()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,P-A4,Paper A4,10,10.00\n");
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nA-1,Acme Supplies,2026-01-12,GBP,PO-1,1,P-A4,Paper A4,10,10.00,100.00,100.00\n");
        await queue.DecidedOnArrivalAsync();
        var before = await queue.InvoiceAsync("A-1");

        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-15,10\n");
        await QueueTenant.EventuallyAsync(
            async () => (await queue.InvoiceAsync("A-1")).Status == InvoiceStatus.Matched, "the receipt import re-matches A-1");

        Assert.Equal(InvoiceStatus.AwaitingReceipt, before.Status);
        Assert.Equal([("awaiting_receipt", "engine"), ("matched", "engine")], await queue.DecisionsAsync("A-1"));
        // The purchase-order file's event may be handled after the invoices committed and decide A-1 itself; the receipt
        // file's re-evaluation is audited once.
        Assert.Equal(1, await queue.QuerySingleAsync<int>(
            "select count(*)::int from audit_log where action = 'matching.reevaluated' and after->>'kind' = 'receipts'"));
        await QueueTenant.EventuallyAsync(
            async () => (await queue.QueryAsync<string>("select distinct topic from outbox where payload->>'cause' = 'rematch_after_import'")).Count == 2,
            "exceptions.changed and dashboard.changed are published with the re-match");

        // A redelivery of the same event (at-least-once brokers do that) is stopped by the inbox: no second decision.
        var envelope = (await queue.QueryAsync<(Guid Id, string Topic, DateTime OccurredAt, string Payload)>(
                "select id, topic, occurred_at, payload::text from outbox where topic = 'file-imported' and payload->>'kind' = 'receipts'"))
            .Select(row => new EventEnvelope(row.Id, row.Topic, queue.Tenant.Id, new DateTimeOffset(row.OccurredAt, TimeSpan.Zero), row.Payload))
            .Single();
        await server.Server.Services.GetRequiredService<EventDelivery>().DeliverAsync(envelope, CancellationToken.None);
        Assert.Equal(2, (await queue.DecisionsAsync("A-1")).Count);
    }

    [Fact]
    public async Task Quantity_tolerance_ten_percent_sixty_plus_fifty_one_fails_and_only_an_approver_overrides_it_with_an_audited_reason()
    {
        var queue = await QueueTenant.CreateAsync(server);
        var set = await queue.MatchingAsync("SetTolerance", new SetToleranceRequest
        {
            Settings = new ToleranceSettings { PriceTolerancePercent = "2", QuantityTolerancePercent = "10", TotalTolerance = "0.05" },
        });
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,W-1,Widget,100,1.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nQ-1,Acme Supplies,2026-01-12,GBP,PO-1,1,W-1,Widget,60,1.00,60.00,60.00\n" +
            "Q-2,Acme Supplies,2026-01-13,GBP,PO-1,1,W-1,Widget,51,1.00,51.00,51.00\n");
        await queue.DecidedOnArrivalAsync();
        var item = await queue.OpenExceptionOfAsync("Q-2");
        const string reason = "Supplier shipped one extra; purchasing accepted it (ticket 4711)";

        var byClerk = await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = reason }, Roles.Clerk);
        var withoutReason = await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = " " }, Roles.Approver);
        var approved = (await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = reason }, Roles.Approver))
            .As<ExceptionItem>();
        var again = await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = reason }, Roles.Approver);
        await queue.ReconcileAsync();

        Assert.Equal(2, set.As<Tolerances>().TenantDefault.Version);
        Assert.Equal(InvoiceStatus.Matched, (await queue.InvoiceAsync("Q-1")).Status);
        Assert.Equal(("quantity_variance", ExceptionState.Open), (item.Reason, item.State));
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (byClerk.Status, byClerk.Reason));
        Assert.Equal(StatusCode.InvalidArgument, withoutReason.Status);
        Assert.Equal((ExceptionState.Resolved, InvoiceStatus.Approved, reason), (approved.State, approved.Invoice.Status, approved.ResolutionNote));
        Assert.Equal((StatusCode.FailedPrecondition, "EXCEPTION_CLOSED"), (again.Status, again.Reason));
        var approverId = await queue.UserIdAsync(Roles.Approver);
        Assert.Equal(
            [("exception", "engine"), ("approved", approverId.ToString())],
            await queue.DecisionsAsync("Q-2"));
        Assert.Equal(InvoiceStatus.Approved, (await queue.InvoiceAsync("Q-2")).Status);
        var audit = await queue.QuerySingleAsync<(string Actor, string Reason, string Before, string After)>(
            """
            select actor, after->'action'->>'reason', before->>'invoiceStatus', after->>'invoiceStatus'
            from audit_log where action = 'exceptions.approve' and entity_id = @id
            """, new { id = item.Id });
        Assert.Equal(($"user:{approverId}", reason, "exception", "approved"), audit);
        var events = await queue.QueryAsync<string>("select topic from outbox where payload->>'cause' = 'approve' order by position");
        Assert.Equal(["exceptions.changed", "dashboard.changed"], events);
    }

    [Fact]
    public async Task Not_a_duplicate_re_evaluates_the_invoice_without_the_duplicate_rule_for_good()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,S-1,Screws,20,5.00\nPO-1,V1,2026-01-05,GBP,2,N-1,Nails,10,2.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,20\nGR-1,PO-1,2,2026-01-10,10\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nINV-0892,Acme Supplies,2026-01-12,GBP,PO-1,1,S-1,Screws,10,5.00,50.00,50.00\n" +
            "0892,Acme Supplies,2026-01-12,GBP,PO-1,1,S-1,Screws,10,5.00,50.00,50.00\n" +
            "N-9,Acme Supplies,2026-01-14,GBP,PO-1,1,N-1,Nails,10,3.00,30.00,30.00\n");
        await queue.DecidedOnArrivalAsync();
        var duplicate = await queue.OpenExceptionOfAsync("0892");
        var priceException = await queue.OpenExceptionOfAsync("N-9");

        var byClerk = await queue.ExceptionsAsync("MarkNotDuplicate", new MarkNotDuplicateRequest { ExceptionId = duplicate.Id, Reason = "mine" }, Roles.Clerk);
        var wrongKind = await queue.ExceptionsAsync("MarkNotDuplicate", new MarkNotDuplicateRequest { ExceptionId = priceException.Id, Reason = "not one" }, Roles.Approver);
        var marked = (await queue.ExceptionsAsync("MarkNotDuplicate",
            new MarkNotDuplicateRequest { ExceptionId = duplicate.Id, Reason = "Second delivery of the same size, confirmed by phone" }, Roles.Approver)).As<ExceptionItem>();
        await queue.ReconcileAsync();

        Assert.Equal("duplicate", duplicate.Reason);
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (byClerk.Status, byClerk.Reason));
        Assert.Equal((StatusCode.FailedPrecondition, "NOT_A_DUPLICATE_EXCEPTION"), (wrongKind.Status, wrongKind.Reason));
        Assert.Equal((ExceptionState.Resolved, InvoiceStatus.Matched), (marked.State, marked.Invoice.Status));
        var approverId = await queue.UserIdAsync(Roles.Approver);
        Assert.Equal([("duplicate", "engine"), ("matched", approverId.ToString()), ("matched", "engine")], await queue.DecisionsAsync("0892"));
        Assert.Equal(1, await queue.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'exceptions.not_duplicate'"));
    }

    [Fact]
    public async Task Rematch_pairs_the_invoice_with_the_chosen_PO_and_lines_and_later_runs_keep_it()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders,
            $"{QueueTenant.PoHeader}\nPO-A,V1,2026-01-05,GBP,1,K-1,Cable 2m,10,2.00\nPO-B,V1,2026-01-05,GBP,1,K-1,Cable 2m,10,2.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-A,PO-A,1,2026-01-10,10\nGR-B,PO-B,1,2026-01-10,10\n");
        await queue.ImportAsync(DocumentKind.Invoices, $"{QueueTenant.InvoiceHeader}\nR-1,Acme Supplies,2026-01-12,GBP,,1,,Cable two metres,10,2.00,20.00,20.00\n");
        await queue.DecidedOnArrivalAsync();
        var item = await queue.OpenExceptionOfAsync("R-1");

        var candidates = (await queue.ExceptionsAsync("ListRematchCandidates", new ListRematchCandidatesRequest { ExceptionId = item.Id }, Roles.Auditor))
            .As<ListRematchCandidatesResponse>();
        var byClerk = await queue.ExceptionsAsync("RematchException", new RematchExceptionRequest { ExceptionId = item.Id, PoNumber = "PO-B", Reason = "r" }, Roles.Clerk);
        var unknownPo = await queue.ExceptionsAsync("RematchException", new RematchExceptionRequest { ExceptionId = item.Id, PoNumber = "PO-X", Reason = "r" }, Roles.Approver);
        var badLine = await queue.ExceptionsAsync("RematchException", new RematchExceptionRequest
        {
            ExceptionId = item.Id, PoNumber = "PO-B", Reason = "r", Lines = { new LinePairing { InvoiceLineNo = 1, PoLineNo = 7 } },
        }, Roles.Approver);
        var rematched = (await queue.ExceptionsAsync("RematchException", new RematchExceptionRequest
        {
            ExceptionId = item.Id, PoNumber = "PO-B", Reason = "Delivery note says PO-B", Lines = { new LinePairing { InvoiceLineNo = 1, PoLineNo = 1 } },
        }, Roles.Approver)).As<ExceptionItem>();
        await queue.ReconcileAsync();
        var detail = (await queue.MatchingAsync("GetInvoice", new GetInvoiceRequest { InvoiceId = item.InvoiceId })).As<InvoiceDetail>();

        Assert.Equal("no_po", item.Reason);
        Assert.Equal(["PO-A", "PO-B"], candidates.Candidates.Select(candidate => candidate.PoNumber).Order());
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (byClerk.Status, byClerk.Reason));
        Assert.Equal((StatusCode.NotFound, "PO_NOT_FOUND"), (unknownPo.Status, unknownPo.Reason));
        Assert.Equal(StatusCode.InvalidArgument, badLine.Status);
        Assert.Equal((ExceptionState.Resolved, InvoiceStatus.Matched, "PO-B"), (rematched.State, rematched.Invoice.Status, rematched.Invoice.PoNumber));
        Assert.Equal((InvoiceStatus.Matched, "PO-B"), (detail.Summary.Status, detail.Summary.PoNumber));
        Assert.Contains("chosen by a reviewer", detail.PoExplanation, StringComparison.Ordinal);
        Assert.Equal(("PO-B", 1), (detail.Lines.Single().PoLine.PoNumber, detail.Lines.Single().PoLine.LineNo));
        var approverId = await queue.UserIdAsync(Roles.Approver);
        Assert.Equal([("no_po", "engine"), ("matched", approverId.ToString()), ("matched", "engine")], await queue.DecisionsAsync("R-1"));
    }

    [Fact]
    public async Task Assign_filters_pages_and_a_bulk_reject_that_frees_PO_quantity_for_the_next_invoice()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,T-1,Toner,10,10.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,10\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nF-1,Acme Supplies,2026-01-12,GBP,PO-1,1,T-1,Toner,10,12.00,120.00,120.00\n" +
            "F-2,Acme Supplies,2026-01-13,GBP,PO-1,1,T-1,Toner,10,10.00,100.00,100.00\n");
        await queue.DecidedOnArrivalAsync();
        var first = await queue.OpenExceptionOfAsync("F-1");
        var second = await queue.OpenExceptionOfAsync("F-2");
        var clerkId = await queue.UserIdAsync(Roles.Clerk);

        var assigned = (await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = first.Id, UserId = clerkId.ToString() }))
            .As<ExceptionItem>();
        var unknownUser = await queue.ExceptionsAsync("AssignException", new AssignExceptionRequest { ExceptionId = first.Id, UserId = Guid.NewGuid().ToString() });
        var mine = (await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest { AssigneeId = "me" }, Roles.Clerk)).As<ListExceptionsResponse>();
        var quantity = (await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest { Reason = "quantity_variance" })).As<ListExceptionsResponse>();
        var costly = (await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest { MinAmount = "110" })).As<ListExceptionsResponse>();
        var page1 = (await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest { Sort = ExceptionSort.AmountDesc, PageSize = 1 })).As<ListExceptionsResponse>();
        var page2 = (await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest { Sort = ExceptionSort.AmountDesc, PageSize = 1, PageToken = page1.NextPageToken }))
            .As<ListExceptionsResponse>();
        var bulkApproveByClerk = await queue.ExceptionsAsync("BulkAction",
            new BulkActionRequest { Action = BulkActionKind.Approve, ExceptionIds = { first.Id }, Reason = "r" }, Roles.Clerk);
        var bulk = (await queue.ExceptionsAsync("BulkAction",
            new BulkActionRequest { Action = BulkActionKind.Reject, ExceptionIds = { first.Id, Guid.NewGuid().ToString() }, Reason = "Price not agreed; returned to supplier" },
            Roles.Clerk)).As<BulkActionResponse>();

        Assert.Equal(("price_variance", "quantity_variance"), (first.Reason, second.Reason));
        Assert.Equal((ExceptionState.InReview, clerkId.ToString(), "clerk"), (assigned.State, assigned.AssigneeId, assigned.AssigneeName));
        Assert.Equal((StatusCode.NotFound, "USER_NOT_FOUND"), (unknownUser.Status, unknownUser.Reason));
        Assert.Equal(["F-1"], mine.Items.Select(item => item.Invoice.InvoiceNumber));
        Assert.Equal(["F-2"], quantity.Items.Select(item => item.Invoice.InvoiceNumber));
        Assert.Equal(["F-1"], costly.Items.Select(item => item.Invoice.InvoiceNumber));
        Assert.Equal((2, "F-1", "120.0000"), (page1.TotalCount, page1.Items.Single().Invoice.InvoiceNumber, page1.Items.Single().AmountHeld));
        Assert.Equal(("F-2", ""), (page2.Items.Single().Invoice.InvoiceNumber, page2.NextPageToken));
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (bulkApproveByClerk.Status, bulkApproveByClerk.Reason));
        Assert.Equal([true, false], bulk.Results.Select(result => result.Ok));
        Assert.Contains("No exception", bulk.Results[1].Error, StringComparison.Ordinal);
        Assert.Equal(InvoiceStatus.Rejected, (await queue.InvoiceAsync("F-1")).Status);
        // F-1 no longer consumes the 10 received, so F-2 is re-decided by the engine and its exception clears.
        Assert.Equal([("exception", "engine"), ("matched", "engine")], await queue.DecisionsAsync("F-2"));
        var dismissed = (await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest { States = { ExceptionState.Dismissed, ExceptionState.Resolved } }))
            .As<ListExceptionsResponse>();
        Assert.Equal([("F-1", ExceptionState.Dismissed), ("F-2", ExceptionState.Resolved)],
            dismissed.Items.Select(item => (item.Invoice.InvoiceNumber, item.State)).Order());
    }
}
