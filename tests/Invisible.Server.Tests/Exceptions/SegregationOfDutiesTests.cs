using Grpc.Core;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Ingestion;
using Invisible.Server.Tests.Accounts;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Exceptions;

/// <summary>The four-eyes rule over real h2c gRPC: the person who imported an invoice may not wave its exception through.</summary>
[Collection(AccountsCollection.Name)]
public sealed class SegregationOfDutiesTests(AccountsServer server)
{
    [Fact]
    public async Task With_four_eyes_on_the_approver_who_imported_an_invoice_is_refused_every_override_and_another_approver_is_not()
    {
        var queue = await QueueTenant.CreateAsync(server);
        var importer = await queue.UserIdAsync(Roles.Approver);
        var adminToken = await queue.TokenAsync(Roles.Admin);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,W-1,Widget,100,1.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nE-1,Acme Supplies,2026-01-12,GBP,PO-1,1,W-1,Widget,100,1.50,150.00,150.00\n", actor: importer.ToString());
        await queue.ReconcileAsync();
        var priced = await queue.OpenExceptionOfAsync("E-1");
        var policyBefore = (await queue.Tenant.CallAsync(Rpcs.Admin("GetApprovalPolicy"), new GetApprovalPolicyRequest(), adminToken)).As<ApprovalPolicy>();
        var turnedOn = (await queue.Tenant.CallAsync(Rpcs.Admin("SetApprovalPolicy"), new SetApprovalPolicyRequest { FourEyes = true }, adminToken))
            .As<ApprovalPolicy>();

        var refused = new[]
        {
            await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = priced.Id, Reason = "my own" }, Roles.Approver),
            await queue.ExceptionsAsync("RematchException", new RematchExceptionRequest { ExceptionId = priced.Id, PoNumber = "PO-1", Reason = "my own" }, Roles.Approver),
        };
        var bulk = (await queue.ExceptionsAsync("BulkAction",
            new BulkActionRequest { Action = BulkActionKind.Approve, ExceptionIds = { priced.Id }, Reason = "my own" }, Roles.Approver)).As<BulkActionResponse>();
        var bySomeoneElse = (await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = priced.Id, Reason = "checked by admin" }))
            .As<ExceptionItem>();

        Assert.Equal((false, true), (policyBefore.FourEyes, turnedOn.FourEyes));
        Assert.All(refused, reply => Assert.Equal((StatusCode.PermissionDenied, "FOUR_EYES_REQUIRED"), (reply.Status, reply.Reason)));
        Assert.False(bulk.Results.Single().Ok);
        Assert.Equal((ExceptionState.Resolved, InvoiceStatus.Approved), (bySomeoneElse.State, bySomeoneElse.Invoice.Status));
        Assert.Equal(1, await queue.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'tenant.approval_policy_changed'"));
    }

    [Fact]
    public async Task With_four_eyes_off_the_importing_approver_may_approve_their_own_invoice()
    {
        var queue = await QueueTenant.CreateAsync(server);
        var importer = await queue.UserIdAsync(Roles.Approver);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,W-1,Widget,100,1.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nE-1,Acme Supplies,2026-01-12,GBP,PO-1,1,W-1,Widget,100,1.50,150.00,150.00\n", actor: importer.ToString());
        await queue.ReconcileAsync();
        var priced = await queue.OpenExceptionOfAsync("E-1");

        var approved = await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = priced.Id, Reason = "small team" }, Roles.Approver);

        Assert.Equal(StatusCode.OK, approved.Status);
    }
}
