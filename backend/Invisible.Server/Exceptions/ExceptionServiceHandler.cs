using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Exceptions.V1;
using Invisible.Identity;
using Invisible.Identity.Tokens;
using Invisible.Server.Matching;
using Grpc.Core;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Exceptions;

/// <summary>
/// The gRPC face of <see cref="ExceptionQueue"/> (protos/invisible/exceptions/v1/exceptions.proto). Every role reads the
/// queue; clerks, approvers and admins work it (assign, reject); only approvers and admins override the matching rules
/// (approve, re-match, "not a duplicate") — segregation of duties, with the tenant's four-eyes rule on top.
/// </summary>
public sealed class ExceptionServiceHandler(ExceptionQueue queue, TimeProvider time)
    : ExceptionService.ExceptionServiceBase
{
    private const int MaxReasonLength = 2000;

    private static readonly Dictionary<string, ExceptionState> States = new(StringComparer.Ordinal)
    {
        ["open"] = ExceptionState.Open,
        ["in_review"] = ExceptionState.InReview,
        ["resolved"] = ExceptionState.Resolved,
        ["dismissed"] = ExceptionState.Dismissed,
    };

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListExceptionsResponse> ListExceptions(ListExceptionsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var pageSize = RequestFields.PageSize(request.PageSize, MatchingServiceHandler.MaxPageSize);
        var offset = RequestFields.ParseOffsetToken(request.PageToken);
        var violations = new List<FieldViolation>();
        var filter = new ExceptionFilter(
            request.States.Select(state => States.FirstOrDefault(entry => entry.Value == state).Key ?? Violation<string>(
                violations, "states", "use OPEN, IN_REVIEW, RESOLVED or DISMISSED")!).ToList(),
            request.Reason.Length > 0 ? request.Reason : null,
            request.VendorCode.Length > 0 ? request.VendorCode : null,
            request.AssigneeId switch
            {
                "" => null,
                "me" => caller.UserId,
                var id => Guid.TryParse(id, out var assignee) ? assignee : Violation<Guid?>(violations, "assignee_id", "must be a user id or \"me\""),
            },
            request.MinAgeDays switch
            {
                0 => null,
                < 0 => Violation<int?>(violations, "min_age_days", "must not be negative"),
                var days => days,
            },
            Amount(request.MinAmount, "min_amount", violations),
            Amount(request.MaxAmount, "max_amount", violations),
            request.Sort switch
            {
                ExceptionSort.Unspecified or ExceptionSort.Oldest => ExceptionOrder.Oldest,
                ExceptionSort.Newest => ExceptionOrder.Newest,
                ExceptionSort.AmountDesc => ExceptionOrder.AmountDescending,
                _ => Violation<ExceptionOrder>(violations, "sort", "use one of the ExceptionSort values"),
            },
            time.GetUtcNow());
        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("Invalid queue filter.", violations);
        }

        var page = await queue.ListAsync(caller.TenantId, filter, offset, pageSize, context.CancellationToken);
        var response = new ListExceptionsResponse { TotalCount = page.TotalCount };
        response.Items.AddRange(page.Items.Select(ToContract));
        if (offset + page.Items.Count < page.TotalCount)
        {
            response.NextPageToken = RequestFields.OffsetToken(offset + page.Items.Count);
        }

        return response;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ExceptionItem> GetException(GetExceptionRequest request, ServerCallContext context) =>
        ToContract(await queue.GetAsync(context.Caller().TenantId, ExceptionId(request.ExceptionId), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Reviewer)]
    public override async Task<ExceptionItem> AssignException(AssignExceptionRequest request, ServerCallContext context) =>
        ToContract(await queue.AssignAsync(
            context.Caller(), ExceptionId(request.ExceptionId), UserId(request.UserId), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Approver)]
    public override async Task<ExceptionItem> ApproveException(ApproveExceptionRequest request, ServerCallContext context) =>
        ToContract(await queue.ApproveAsync(
            context.Caller(), ExceptionId(request.ExceptionId), Reason(request.Reason), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Reviewer)]
    public override async Task<ExceptionItem> RejectException(RejectExceptionRequest request, ServerCallContext context) =>
        ToContract(await queue.RejectAsync(
            context.Caller(), ExceptionId(request.ExceptionId), Reason(request.Reason), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListRematchCandidatesResponse> ListRematchCandidates(ListRematchCandidatesRequest request, ServerCallContext context)
    {
        var candidates = await queue.CandidatesAsync(context.Caller().TenantId, ExceptionId(request.ExceptionId), context.CancellationToken);
        var response = new ListRematchCandidatesResponse();
        response.Candidates.AddRange(candidates.Select(candidate => new RematchCandidate
        {
            PurchaseOrderId = candidate.PurchaseOrderId.ToString(),
            PoNumber = candidate.PoNumber,
            VendorCode = candidate.VendorCode,
            Score = candidate.Score,
            Explanation = candidate.Explanation,
            PoTotal = MatchingServiceHandler.Decimal(candidate.PoTotal),
            Currency = candidate.Currency,
        }));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Approver)]
    public override async Task<ExceptionItem> RematchException(RematchExceptionRequest request, ServerCallContext context)
    {
        var exceptionId = ExceptionId(request.ExceptionId);
        if (request.PoNumber.Trim().Length == 0)
        {
            throw DomainException.InvalidArgument("Choose the purchase order to match against.", new FieldViolation("po_number", "must not be empty"));
        }

        var reason = Reason(request.Reason);
        var lines = request.Lines.Select(line => new LinePairingOverride(line.InvoiceLineNo, line.PoLineNo)).ToList();
        return ToContract(await queue.RematchAsync(context.Caller(), exceptionId, request.PoNumber, lines, reason, context.RequestId(), context.CancellationToken));
    }

    [Authorize(Policy = AccessPolicies.Approver)]
    public override async Task<ExceptionItem> MarkNotDuplicate(MarkNotDuplicateRequest request, ServerCallContext context) =>
        ToContract(await queue.MarkNotDuplicateAsync(
            context.Caller(), ExceptionId(request.ExceptionId), Reason(request.Reason), context.RequestId(), context.CancellationToken));

    /// <summary>
    /// Each item on its own: one failing (closed, not found, not permitted) does not stop the others. Approving keeps its
    /// own rule: only approvers and admins, checked here because the other actions of this RPC are open to clerks.
    /// </summary>
    [Authorize(Policy = AccessPolicies.Reviewer)]
    public override async Task<ExceptionItem> AssignVendor(AssignVendorRequest request, ServerCallContext context) =>
        ToContract(await queue.AssignVendorAsync(
            context.Caller(), ExceptionId(request.ExceptionId), VendorCode(request.VendorCode), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Reviewer)]
    public override async Task<BulkActionResponse> BulkAction(BulkActionRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        if (request.Action == BulkActionKind.Unspecified || !System.Enum.IsDefined(request.Action))
        {
            throw DomainException.InvalidArgument("Choose the action.", new FieldViolation("action", "use ASSIGN, APPROVE, REJECT or ASSIGN_VENDOR"));
        }

        if (request.ExceptionIds.Count is 0 or > 200)
        {
            throw DomainException.InvalidArgument("Select between 1 and 200 exceptions.", new FieldViolation("exception_ids", "must list 1 to 200 ids"));
        }

        if (request.Action == BulkActionKind.Approve && caller.Role is not (Roles.Admin or Roles.Approver))
        {
            throw DomainException.WithReason(
                ErrorKind.PermissionDenied, "Only approvers and admins may approve exceptions.", "ROLE_NOT_PERMITTED", ExceptionQueue.ErrorDomain);
        }

        var reason = request.Action is BulkActionKind.Assign or BulkActionKind.AssignVendor ? "" : Reason(request.Reason);
        var vendorCode = request.Action == BulkActionKind.AssignVendor ? VendorCode(request.VendorCode) : "";
        var assignee = request.Action == BulkActionKind.Assign ? UserId(request.UserId) : null;
        var response = new BulkActionResponse();
        foreach (var id in request.ExceptionIds)
        {
            var result = new BulkActionResult { ExceptionId = id };
            try
            {
                var exceptionId = ExceptionId(id);
                _ = request.Action switch
                {
                    BulkActionKind.Assign => await queue.AssignAsync(caller, exceptionId, assignee, context.RequestId(), context.CancellationToken),
                    BulkActionKind.AssignVendor => await queue.AssignVendorAsync(caller, exceptionId, vendorCode, context.RequestId(), context.CancellationToken),
                    BulkActionKind.Approve => await queue.ApproveAsync(caller, exceptionId, reason, context.RequestId(), context.CancellationToken),
                    _ => await queue.RejectAsync(caller, exceptionId, reason, context.RequestId(), context.CancellationToken),
                };
                result.Ok = true;
            }
            catch (DomainException e)
            {
                // An earlier item of the selection may have printed the same name: assigning it re-decided this invoice already.
                var assignedAlready = request.Action == BulkActionKind.AssignVendor && e.Reason == "EXCEPTION_CLOSED" &&
                                      await HasVendorAsync(caller, id, vendorCode, context.CancellationToken);
                result.Ok = assignedAlready;
                result.Error = assignedAlready ? "" : e.Message;
            }

            response.Results.Add(result);
        }

        return response;
    }

    private static ExceptionItem ToContract(ExceptionView view) => new()
    {
        Id = view.Id.ToString(),
        InvoiceId = view.Invoice.InvoiceId.ToString(),
        Invoice = MatchingServiceHandler.ToSummary(view.Invoice),
        Reason = view.Reason,
        Explanation = view.Explanation ?? "",
        State = States.TryGetValue(view.State, out var state) ? state : ExceptionState.Unspecified,
        AssigneeId = view.AssigneeId?.ToString() ?? "",
        AssigneeName = view.AssigneeName ?? "",
        OpenedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(view.OpenedAt, DateTimeKind.Utc)),
        ResolvedAt = view.ResolvedAt is { } resolvedAt ? Timestamp.FromDateTime(DateTime.SpecifyKind(resolvedAt, DateTimeKind.Utc)) : null,
        ResolutionNote = view.ResolutionNote ?? "",
        AmountHeld = MatchingServiceHandler.Decimal(view.Invoice.InvoiceTotal),
        Approval = view.Approval is { } approval ? ApprovalServiceHandler.ToContract(approval) : null,
    };

    private static Guid ExceptionId(string value) => RequestFields.ParseId(value, "exception_id", "must be an id returned by ListExceptions");

    private async Task<bool> HasVendorAsync(Caller caller, string exceptionId, string vendorCode, CancellationToken cancellationToken) =>
        (await queue.GetAsync(caller.TenantId, ExceptionId(exceptionId), cancellationToken)).Invoice.VendorCode == vendorCode;

    private static string VendorCode(string value) => value.Trim() switch
    {
        { Length: 0 } => throw DomainException.InvalidArgument("Choose the vendor.", new FieldViolation("vendor_code", "must be a vendor code of your organisation")),
        var code => code,
    };

    private static Guid? UserId(string value) => value.Length == 0 ? null : RequestFields.ParseId(value, "user_id", "must be a user id, or empty to unassign");

    private static string Reason(string value) => value.Trim() switch
    {
        { Length: 0 } => throw DomainException.InvalidArgument("Give a reason; it is kept in the audit log.", new FieldViolation("reason", "must not be empty")),
        { Length: > MaxReasonLength } => throw DomainException.InvalidArgument("The reason is too long.", new FieldViolation("reason", $"at most {MaxReasonLength} characters")),
        var reason => reason,
    };

    private static decimal? Amount(string value, string field, List<FieldViolation> violations) =>
        value.Trim().Length == 0 ? null
        : decimal.TryParse(value.Trim(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var amount) ? amount
        : Violation<decimal?>(violations, field, "must be a decimal such as \"1250.00\"");

    private static T Violation<T>(List<FieldViolation> violations, string field, string description)
    {
        violations.Add(new FieldViolation(field, description));
        return default!;
    }
}
