using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Ingestion;
using Invisible.Server.Tests.Accounts;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Exceptions;

/// <summary>Approval policies over real h2c gRPC against the running product: multi-step approval, delegation, preview, audit.</summary>
[Collection(AccountsCollection.Name)]
public sealed class ApprovalPolicyTests(AccountsServer server)
{
    private static readonly ApprovalRule TwoWithAnAdmin = new()
    {
        Name = "Over 100 GBP", MinAmount = "100", Currency = "GBP", RequiredApprovals = 2, RequiredRole = Roles.Admin,
    };

    private async Task<(QueueTenant Queue, ExceptionItem Item)> PricedExceptionAsync(string invoiceTotal = "150.00")
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.PurchaseOrders, $"{QueueTenant.PoHeader}\nPO-1,V1,2026-01-05,GBP,1,W-1,Widget,100,1.00\n");
        await queue.ImportAsync(DocumentKind.Receipts, $"{QueueTenant.ReceiptHeader}\nGR-1,PO-1,1,2026-01-10,100\n");
        await queue.ImportAsync(DocumentKind.Invoices,
            $"{QueueTenant.InvoiceHeader}\nE-1,Acme Supplies,2026-01-12,GBP,PO-1,1,W-1,Widget,100,{decimal.Parse(invoiceTotal, System.Globalization.CultureInfo.InvariantCulture) / 100m:0.00##},{invoiceTotal},{invoiceTotal}\n");
        await queue.ReconcileAsync();
        return (queue, await queue.OpenExceptionOfAsync("E-1"));
    }

    [Fact]
    public async Task Over_the_threshold_an_approver_alone_leaves_the_exception_open_and_an_admin_as_second_approver_accepts_it()
    {
        var (queue, item) = await PricedExceptionAsync();
        var set = await queue.ApprovalsAsync("SetApprovalRules", new SetApprovalRulesRequest { Rules = { TwoWithAnAdmin } });

        var first = (await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "price agreed by phone" }, Roles.Approver))
            .As<ExceptionItem>();
        var inTheQueue = (await queue.ExceptionsAsync("ListExceptions", new ListExceptionsRequest())).As<ListExceptionsResponse>()
            .Items.Single(listed => listed.Id == item.Id).Approval;
        var again = await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "me again" }, Roles.Approver);
        var second = (await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "confirmed" }))
            .As<ExceptionItem>();
        var audited = await queue.QuerySingleAsync<int>(
            "select count(*)::int from audit_log where action = 'exceptions.approve' and entity_id = @id", new { id = item.Id });
        var adminName = await queue.QuerySingleAsync<string>("select coalesce(nullif(display_name, ''), 'user ' || left(id::text, 8)) from users where role = 'admin'");

        Assert.Equal(StatusCode.OK, set.Status);
        Assert.Equal(
            (ExceptionState.Open, 1, "1 more approval, one of them from an admin", true),
            (first.State, first.Approval.Approvals.Count, first.Approval.Summary, string.Join(", ", first.Approval.EligibleApproverNames) == adminName));
        Assert.Equal((1, "1 more approval, one of them from an admin"), (inTheQueue.Approvals.Count, inTheQueue.Summary));
        Assert.Equal((StatusCode.PermissionDenied, "ALREADY_APPROVED"), (again.Status, again.Reason));
        Assert.Equal((ExceptionState.Resolved, InvoiceStatus.Approved, 2, "Approved"), (second.State, second.Invoice.Status, second.Approval.Approvals.Count, second.Approval.Summary));
        Assert.Equal(2, audited);
    }

    [Fact]
    public async Task A_rule_change_never_reopens_a_decided_exception()
    {
        var (queue, item) = await PricedExceptionAsync();
        await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "fine" }, Roles.Approver);

        var stricter = TwoWithAnAdmin.Clone();
        stricter.RequiredApprovals = 3;
        await queue.ApprovalsAsync("SetApprovalRules", new SetApprovalRulesRequest { Rules = { stricter } });
        var after = (await queue.ExceptionsAsync("GetException", new GetExceptionRequest { ExceptionId = item.Id })).As<ExceptionItem>();

        Assert.Equal((ExceptionState.Resolved, InvoiceStatus.Approved), (after.State, after.Invoice.Status));
    }

    [Fact]
    public async Task An_approver_acting_for_an_admin_on_holiday_gives_the_admin_approval_the_rule_needs_and_the_delegation_is_audited()
    {
        var (queue, item) = await PricedExceptionAsync();
        await queue.ApprovalsAsync("SetApprovalRules", new SetApprovalRulesRequest { Rules = { TwoWithAnAdmin } });
        var standIn = await queue.AnotherPersonAsync(Roles.Approver);
        var delegation = (await queue.ApprovalsAsync("CreateDelegation", new CreateDelegationRequest
        {
            DelegateId = standIn.Id.ToString(), EndsAt = Timestamp.FromDateTimeOffset(server.Clock.GetUtcNow().AddDays(7)), Reason = "holiday",
        })).As<Delegation>();
        await queue.ExceptionsAsync("ApproveException", new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "first look" }, Roles.Approver);

        var byStandIn = (await queue.Tenant.CallAsync(
            ExceptionsReflection.Descriptor.Services[0].FindMethodByName("ApproveException"),
            new ApproveExceptionRequest { ExceptionId = item.Id, Reason = "for the admin" }, standIn.Token)).As<ExceptionItem>();
        var audited = await queue.QuerySingleAsync<int>("select count(*)::int from audit_log where action = 'approvals.delegation_created'");

        Assert.True(delegation.Active);
        var adminId = await queue.UserIdAsync(Roles.Admin);
        Assert.Equal((ExceptionState.Resolved, adminId.ToString()), (byStandIn.State, byStandIn.Approval.Approvals.Last().OnBehalfOfId));
        Assert.Equal(1, audited);
    }

    [Fact]
    public async Task The_preview_shows_which_open_exceptions_each_rule_of_a_draft_would_catch_converting_at_the_tenants_rate()
    {
        var (queue, _) = await PricedExceptionAsync("150.00");
        var tenantCurrency = (await queue.ApprovalsAsync("GetApprovalRules", new GetApprovalRulesRequest())).As<ApprovalRules>().TenantCurrency;
        var rates = tenantCurrency == "GBP" ? [] : new[] { new ExchangeRate { Currency = "GBP", ValidFrom = "2026-01-01", Rate = "10" } };
        var converted = tenantCurrency == "GBP" ? 150m : 1500m;

        var preview = (await queue.ApprovalsAsync("PreviewApprovalRules", new PreviewApprovalRulesRequest
        {
            Rules =
            {
                new ApprovalRule { Name = "Above the E-1 amount", MinAmount = (converted + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), RequiredApprovals = 2 },
                new ApprovalRule { Name = "Price variances", Reasons = { "price_variance" }, RequiredApprovals = 1 },
            },
            ExchangeRates = { rates },
        })).As<PreviewApprovalRulesResponse>();
        var saved = (await queue.ApprovalsAsync("GetApprovalRules", new GetApprovalRulesRequest())).As<ApprovalRules>();

        Assert.Equal(
            new[] { ("Above the E-1 amount", 0), ("Price variances", 1), ("Default: one approval", 0) },
            preview.Rules.Select(rule => (rule.RuleName, rule.Count)).ToArray());
        Assert.Empty(saved.Rules);
    }

    [Fact]
    public async Task A_policy_with_nonsense_is_refused_naming_every_bad_field()
    {
        var queue = await QueueTenant.CreateAsync(server);

        var refused = await queue.ApprovalsAsync("SetApprovalRules", new SetApprovalRulesRequest
        {
            Rules = { new ApprovalRule { Name = "", MinAmount = "ten", RequiredApprovals = 9, RequiredRole = "clerk" } },
            ExchangeRates = { new ExchangeRate { Currency = "eur", ValidFrom = "yesterday", Rate = "-1" } },
        });

        Assert.Equal(StatusCode.InvalidArgument, refused.Status);
    }
}
