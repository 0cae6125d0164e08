using Invisible.Server.FieldEncryption;
using System.Text.Json;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Server.Matching;
using Invisible.Server.Matching.Models;
using Invisible.Server.Errors;
using Invisible.Server.Vendors;

namespace Invisible.Server.Exceptions;

/// <summary>A PO a reviewer may re-match an invoice to.</summary>
public sealed record RematchCandidateView(Guid PurchaseOrderId, string PoNumber, string VendorCode, double Score, string Explanation, decimal PoTotal, string Currency);

/// <summary>
/// The exception queue's actions. Each one, in one transaction: checks the item is still open, does its part, re-evaluates
/// the tenant's decided invoices (the item's invoice gets a new decision by the reviewer; others whose outcome changed get
/// one by the engine), writes an audit entry and publishes <see cref="ExceptionsChanged"/> and <see cref="DashboardChanged"/>.
/// Runs are serialised per tenant with reconcile runs (<see cref="MatchDecisionStore.BeginRunAsync"/>).
/// </summary>
public sealed class ExceptionQueue(
    TenantDatabase tenants, TimeProvider time, ILogger<ExceptionQueue> logger, PersonalDataKeys personalDataKeys, SimilarityModelRetraining retraining)
{
    public const string ErrorDomain = "exceptions.invisible.app";

    public async Task<ExceptionPage> ListAsync(Guid tenantId, ExceptionFilter filter, int offset, int limit, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await ExceptionQueries.ListAsync(unitOfWork, filter, offset, limit, cancellationToken);
    }

    public async Task<ExceptionView> GetAsync(Guid tenantId, Guid exceptionId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await ExceptionQueries.GetAsync(unitOfWork, exceptionId, forUpdate: false, cancellationToken) ?? throw NotFound(exceptionId);
    }

    /// <summary>Assigns the item to a user of the tenant (it moves to in_review), or unassigns it (back to open).</summary>
    public Task<ExceptionView> AssignAsync(Caller caller, Guid exceptionId, Guid? userId, string? requestId, CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, "assign", requestId, forceInvoice: true, async (unitOfWork, item, _) =>
        {
            // SQL (LINQ conversion pending, issue #18): an existence check on users, ported mechanically from Dapper.
            if (userId is { } assignee && !await unitOfWork.Db.ExecuteAsync<bool>(
                    "select exists (select 1 from users where id = @assignee and disabled_at is null)", new { assignee }, cancellationToken))
            {
                throw DomainException.WithReason(ErrorKind.NotFound, $"No active user {assignee} in your organisation.", "USER_NOT_FOUND", ErrorDomain);
            }

            // SQL: the state follows the assignee (case on a parameter) in one statement; LINQ conversion pending (issue #18).
            await unitOfWork.Db.ExecuteAsync(
                """
                update exceptions set assignee_id = @userId, status = case when @userId::uuid is null then 'open' else 'in_review' end, updated_at = now()
                where id = @exceptionId
                """, new { userId, exceptionId }, cancellationToken);
            return new { assigneeId = userId };
        }, cancellationToken);

    /// <summary>
    /// Override: the invoice is accepted as it is. The caller's role is checked by the RPC policy (approvers and admins), the
    /// tenant's four-eyes rule here (<see cref="SegregationOfDuties"/>), as for re-match and "not a duplicate".
    /// </summary>
    public Task<ExceptionView> ApproveAsync(Caller caller, Guid exceptionId, string reason, string? requestId, CancellationToken cancellationToken) =>
        CloseAsync(caller, exceptionId, InvoiceEvaluation.Approved, "resolved", reason, requestId, cancellationToken);

    public Task<ExceptionView> RejectAsync(Caller caller, Guid exceptionId, string reason, string? requestId, CancellationToken cancellationToken) =>
        CloseAsync(caller, exceptionId, InvoiceEvaluation.Rejected, "dismissed", reason, requestId, cancellationToken);

    /// <summary>The engine's ranked PO candidates for the invoice, else the open POs of its vendor.</summary>
    public async Task<IReadOnlyList<RematchCandidateView>> CandidatesAsync(Guid tenantId, Guid exceptionId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var item = await ExceptionQueries.GetAsync(unitOfWork, exceptionId, forUpdate: false, cancellationToken) ?? throw NotFound(exceptionId);
        // SQL: a jsonb path into the stored evidence.
        var evidence = await unitOfWork.Db.ExecuteAsync<string?>(
            "select evidence->'po'->'candidates' from match_decisions where id = @id", new { id = item.MatchDecisionId }, cancellationToken);
        var ranked = (evidence is null ? null : JsonSerializer.Deserialize<List<StoredCandidate>>(evidence, MatchDecisionStore.EvidenceJson)) ?? [];
        // SQL: each PO's total is a correlated sum over its lines, read for the ranked candidates alone.
        var purchaseOrders = (await unitOfWork.Db.QueryToListAsync<PurchaseOrderRow>(
            """
            select p.id as Id, p.po_number as PoNumber, v.vendor_code as VendorCode, p.currency as Currency,
                   coalesce((select sum(l.quantity * l.unit_price) from purchase_order_lines l where l.purchase_order_id = p.id), 0) as Total
            from purchase_orders p join vendors v on v.id = p.vendor_id
            where p.superseded_at is null and (p.po_number = any(@numbers) or (cardinality(@numbers) = 0 and v.vendor_code = @vendorCode))
            order by p.order_date desc, p.po_number
            limit 20
            """, new { numbers = ranked.Select(candidate => candidate.PoNumber).ToArray(), vendorCode = item.Invoice.VendorCode }, cancellationToken)).ToDictionary(po => po.PoNumber, StringComparer.Ordinal);
        if (ranked.Count == 0)
        {
            return purchaseOrders.Values
                .Select(po => new RematchCandidateView(po.Id, po.PoNumber, po.VendorCode, 0, $"A current PO of {po.VendorCode}; the engine ranked none for this invoice.", po.Total, po.Currency))
                .ToList();
        }

        return ranked
            .Where(candidate => purchaseOrders.ContainsKey(candidate.PoNumber))
            .OrderByDescending(candidate => candidate.Score)
            .Select(candidate =>
            {
                var po = purchaseOrders[candidate.PoNumber];
                return new RematchCandidateView(po.Id, po.PoNumber, po.VendorCode, candidate.Score,
                    FormattableString.Invariant(
                        $"Items {candidate.ItemOverlap:P0} alike, quantities fit {candidate.QuantityFit:P0} (exact {candidate.ExactQuantity:P0}), prices within tolerance {candidate.PriceFit:P0}."),
                    po.Total, po.Currency);
            })
            .ToList();
    }

    /// <summary>Pairs the invoice with a chosen PO (and lines) from now on, then re-evaluates it.</summary>
    public Task<ExceptionView> RematchAsync(
        Caller caller, Guid exceptionId, string poNumber, IReadOnlyList<LinePairingOverride> lines, string reason, string? requestId,
        CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, "rematch", requestId, forceInvoice: true, async (unitOfWork, item, _) =>
        {
            await SegregationOfDuties.RequireSecondPersonAsync(unitOfWork, caller, item.Invoice.InvoiceId, cancellationToken);
            // SQL (LINQ conversion pending, issue #18): single-table lookup, ported mechanically from Dapper.
            var po = (await unitOfWork.Db.QueryToListAsync<PurchaseOrderRef>(
                "select id as Id, po_number as PoNumber from purchase_orders where superseded_at is null and upper(po_number) = upper(@poNumber)", new { poNumber = poNumber.Trim() }, cancellationToken)).SingleOrDefault()
                ?? throw DomainException.WithReason(ErrorKind.NotFound, $"No current purchase order '{poNumber}'.", "PO_NOT_FOUND", ErrorDomain);
            // SQL (LINQ conversion pending, issue #18): single-table lookup.
            var poLines = (await unitOfWork.Db.QueryToListAsync<int>(
                "select line_no from purchase_order_lines where purchase_order_id = @id", new { id = po.Id }, cancellationToken)).ToHashSet();
            // SQL (LINQ conversion pending, issue #18): single-table lookup.
            var invoiceLines = (await unitOfWork.Db.QueryToListAsync<int>(
                "select line_no from invoice_lines where invoice_id = @id", new { id = item.Invoice.InvoiceId }, cancellationToken)).ToHashSet();
            var violations = lines
                .Select((pairing, index) =>
                    !invoiceLines.Contains(pairing.InvoiceLineNo) ? new FieldViolation($"lines[{index}].invoice_line_no", "is not a line of this invoice")
                    : !poLines.Contains(pairing.PoLineNo) ? new FieldViolation($"lines[{index}].po_line_no", $"is not a line of {po.PoNumber}")
                    : null)
                .OfType<FieldViolation>()
                .ToList();
            if (violations.Count > 0)
            {
                throw DomainException.InvalidArgument("Pair lines of this invoice with lines of the chosen PO.", violations);
            }

            await MatchOverrideStore.AddRematchAsync(
                unitOfWork, new RematchOverride(item.Invoice.InvoiceId, po.PoNumber, lines, reason, DecidedBy(caller)), cancellationToken);
            var confirmedAlias = await ReviewerVendorConfirmation.AfterRematchAsync(unitOfWork, item, po.Id, caller.AuditActor, requestId, cancellationToken);
            return new { poNumber = po.PoNumber, lines, reason, confirmedAlias };
        }, cancellationToken);

    /// <summary>
    /// The vendor of an invoice the engine could not name: the printed name becomes a confirmed alias of
    /// <paramref name="vendorCode"/> (audited), and every decided invoice printing it is re-decided, this one by the caller.
    /// </summary>
    public Task<ExceptionView> AssignVendorAsync(
        Caller caller, Guid exceptionId, string vendorCode, string? requestId, CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, "assign_vendor", requestId, forceInvoice: true, async (unitOfWork, item, _) =>
        {
            if (item.Invoice.VendorCode is { } resolved)
            {
                throw DomainException.WithReason(
                    ErrorKind.FailedPrecondition, $"This invoice's vendor is already {resolved}; re-match it to another vendor's PO instead.",
                    "VENDOR_ALREADY_RESOLVED", ErrorDomain);
            }

            var confirmed = await ConfirmedAliases.ConfirmAsync(
                unitOfWork, item.Invoice.PrintedVendorName, vendorCode, AliasDecisions.AssignVendor, caller.AuditActor, item.Invoice.InvoiceId,
                requestId, cancellationToken);
            return new { vendorCode = confirmed.VendorCode, printedName = confirmed.PrintedName };
        }, cancellationToken);

    /// <summary>The invoice is not a duplicate: the duplicate rule no longer applies to it, then it is re-evaluated.</summary>
    public Task<ExceptionView> MarkNotDuplicateAsync(Caller caller, Guid exceptionId, string reason, string? requestId, CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, "not_duplicate", requestId, forceInvoice: true, async (unitOfWork, item, _) =>
        {
            if (!item.Reason.Split(',').Contains("duplicate"))
            {
                throw DomainException.WithReason(
                    ErrorKind.FailedPrecondition, $"This exception is about {item.Reason}, not a duplicate.", "NOT_A_DUPLICATE_EXCEPTION", ErrorDomain);
            }

            await SegregationOfDuties.RequireSecondPersonAsync(unitOfWork, caller, item.Invoice.InvoiceId, cancellationToken);

            await MatchOverrideStore.AddNotDuplicateAsync(unitOfWork, item.Invoice.InvoiceId, reason, DecidedBy(caller), cancellationToken);
            return new { reason };
        }, cancellationToken);

    private Task<ExceptionView> CloseAsync(
        Caller caller, Guid exceptionId, string invoiceStatus, string state, string reason, string? requestId, CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, invoiceStatus == InvoiceEvaluation.Approved ? "approve" : "reject", requestId, forceInvoice: false,
            async (unitOfWork, item, decidedAt) =>
            {
                ConfirmedAlias? confirmedAlias = null;
                if (invoiceStatus == InvoiceEvaluation.Approved)
                {
                    await SegregationOfDuties.RequireSecondPersonAsync(unitOfWork, caller, item.Invoice.InvoiceId, cancellationToken);
                    confirmedAlias = await ReviewerVendorConfirmation.AfterApprovalAsync(unitOfWork, item, caller.AuditActor, requestId, cancellationToken);
                }

                var decisionId = await ReviewerDecisionStore.AppendAsync(
                    unitOfWork, item.Invoice.InvoiceId, invoiceStatus, decidedAt, DecidedBy(caller), reason, cancellationToken);
                // SQL (LINQ conversion pending, issue #18): single-row update, ported mechanically from Dapper.
                await unitOfWork.Db.ExecuteAsync(
                    """
                    update exceptions set status = @state, resolved_at = now(), resolved_by = @resolvedBy, resolution_note = @reason,
                                          match_decision_id = @decisionId, updated_at = now()
                    where id = @exceptionId
                    """, new { state, resolvedBy = caller.Kind == CallerKind.User ? caller.UserId : (Guid?)null, reason, decisionId, exceptionId }, cancellationToken);
                return new { invoiceStatus, decisionId, reason, confirmedAlias };
            }, cancellationToken);

    private async Task<ExceptionView> ActAsync(
        Caller caller,
        Guid exceptionId,
        string action,
        string? requestId,
        bool forceInvoice,
        Func<TenantUnitOfWork, ExceptionView, DateTime, Task<object>> act,
        CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, cancellationToken);
        var redecision = await InvoiceRedecision.BeginAsync(unitOfWork, time, await personalDataKeys.DataAsync(cancellationToken), cancellationToken);
        var item = await ExceptionQueries.GetAsync(unitOfWork, exceptionId, forUpdate: true, cancellationToken) ?? throw NotFound(exceptionId);
        if (item.State is not ("open" or "in_review"))
        {
            throw DomainException.WithReason(
                ErrorKind.FailedPrecondition, $"This exception is already {item.State}; reload the queue.", "EXCEPTION_CLOSED", ErrorDomain);
        }

        var done = await act(unitOfWork, item, redecision.DecidedAt);
        var invoiceId = item.Invoice.InvoiceId;
        var reevaluated = await redecision.ReevaluateAsync(
            DecidedBy(caller), forceInvoice ? new HashSet<Guid> { invoiceId } : new HashSet<Guid>(), eligible: null, cancellationToken);
        var after = await ExceptionQueries.GetAsync(unitOfWork, exceptionId, forUpdate: false, cancellationToken) ?? throw NotFound(exceptionId);
        await redecision.RecordAsync(
            new RedecisionAudit(
                caller.AuditActor, $"exceptions.{action}", "exception", exceptionId.ToString(),
                Before: new { state = item.State, assigneeId = item.AssigneeId, invoiceStatus = item.Invoice.Status, reason = item.Reason },
                After: new { state = after.State, assigneeId = after.AssigneeId, invoiceStatus = after.Invoice.Status, action = done },
                requestId),
            cause: action,
            alsoChanged: [invoiceId],
            cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        if (action is "assign_vendor" or "rematch" or "approve")
        {
            // These may have confirmed a vendor's name: the model learns it in the background.
            retraining.Request(caller.TenantId);
        }

        logger.LogInformation(
            "Exception {ExceptionId} of tenant {TenantId}: {Action} by {Actor}; {Reevaluated} invoice(s) re-decided",
            exceptionId, caller.TenantId, action, caller.AuditActor, reevaluated.Count);
        return after;
    }

    /// <summary>How a decision names its reviewer (<c>match_decisions.decided_by</c>): the user's or API key's id.</summary>
    private static string DecidedBy(Caller caller) => caller.UserId.ToString();

    private static DomainException NotFound(Guid exceptionId) =>
        DomainException.WithReason(ErrorKind.NotFound, $"No exception {exceptionId}.", "EXCEPTION_NOT_FOUND", ErrorDomain);

    private sealed record StoredCandidate(string PoNumber, double Score, double ItemOverlap, double QuantityFit, double ExactQuantity, double PriceFit);

    private sealed class PurchaseOrderRef
    {
        public Guid Id { get; init; }
        public string PoNumber { get; init; } = "";
    }

    private sealed class PurchaseOrderRow
    {
        public Guid Id { get; init; }
        public string PoNumber { get; init; } = "";
        public string VendorCode { get; init; } = "";
        public string Currency { get; init; } = "";
        public decimal Total { get; init; }
    }
}
