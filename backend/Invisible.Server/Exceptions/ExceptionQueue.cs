using Invisible.Server.FieldEncryption;
using System.Text.Json;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Platform.Events;
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
        var page = await ExceptionQueries.ListAsync(unitOfWork, filter, offset, limit, cancellationToken);
        return page with { Items = await ApprovalStore.WithProgressAsync(unitOfWork, page.Items, cancellationToken) };
    }

    public async Task<ExceptionView> GetAsync(Guid tenantId, Guid exceptionId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await WithApprovalAsync(
            unitOfWork, await ExceptionQueries.GetAsync(unitOfWork, exceptionId, forUpdate: false, cancellationToken) ?? throw NotFound(exceptionId), cancellationToken);
    }

    private async Task<ExceptionView> WithApprovalAsync(TenantUnitOfWork unitOfWork, ExceptionView item, CancellationToken cancellationToken) =>
        item with { Approval = await ApprovalStore.ProgressAsync(unitOfWork, item, time.GetUtcNow(), cancellationToken) };

    /// <summary>Assigns the item to a user of the tenant (it moves to in_review), or unassigns it (back to open).</summary>
    public Task<ExceptionView> AssignAsync(Caller caller, Guid exceptionId, Guid? userId, string? requestId, CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, "assign", requestId, forceInvoice: true, async (unitOfWork, item, _) =>
        {
            if (userId is { } assignee && !await unitOfWork.Db.GetTable<ActiveUserRow>()
                    .AnyAsync(user => user.Id == assignee && user.DisabledAt == null, cancellationToken))
            {
                throw DomainException.WithReason(ErrorKind.NotFound, $"No active user {assignee} in your organisation.", "USER_NOT_FOUND", ErrorDomain);
            }

            await unitOfWork.Db.GetTable<ExceptionStateRow>()
                .Where(exception => exception.Id == exceptionId)
                .Set(exception => exception.AssigneeId, userId)
                .Set(exception => exception.Status, userId == null ? "open" : "in_review")
                .Set(exception => exception.UpdatedAt, () => Sql.CurrentTimestamp)
                .UpdateAsync(cancellationToken);
            if (userId is { } assigned && assigned != item.AssigneeId && !(caller.Kind == CallerKind.User && assigned == caller.UserId))
            {
                await EventOutbox.EnqueueAsync(
                    unitOfWork, new ExceptionAssigned(Guid.NewGuid(), caller.TenantId, time.GetUtcNow(), exceptionId, assigned, caller.UserId, caller.AuditActor),
                    cancellationToken);
            }

            return new { assigneeId = userId };
        }, cancellationToken);

    /// <summary>
    /// Override: one approval under the tenant's approval policy (<see cref="ApprovalStore"/>, the domain's
    /// <see cref="Invisible.Reconciliation.Approvals.ApprovalPolicy"/>, four-eyes included); the invoice is accepted as it is
    /// once the rule that catches the exception is satisfied. The caller's role is checked by the RPC policy (approvers and
    /// admins). Every approval is audited (<c>exceptions.approve</c>, with the rule and what remains).
    /// </summary>
    public Task<ExceptionView> ApproveAsync(Caller caller, Guid exceptionId, string reason, string? requestId, CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, "approve", requestId, forceInvoice: false, async (unitOfWork, item, decidedAt) =>
        {
            var (progress, approval) = await ApprovalStore.RecordAsync(unitOfWork, caller, item, reason, time.GetUtcNow(), cancellationToken);
            if (!progress.Satisfied)
            {
                await EventOutbox.EnqueueAsync(
                    unitOfWork, new ApprovalWaiting(Guid.NewGuid(), caller.TenantId, time.GetUtcNow(), exceptionId, caller.UserId), cancellationToken);
                return new { approval };
            }

            var confirmedAlias = await ReviewerVendorConfirmation.AfterApprovalAsync(unitOfWork, item, caller.AuditActor, requestId, cancellationToken);
            var decisionId = await CloseInvoiceAsync(unitOfWork, caller, item, InvoiceEvaluation.Approved, "resolved", reason, decidedAt, cancellationToken);
            return new { invoiceStatus = InvoiceEvaluation.Approved, decisionId, reason, approval, confirmedAlias };
        }, cancellationToken);

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
            var wanted = poNumber.Trim().ToUpperInvariant();
            var po = (await unitOfWork.Db.GetTable<PurchaseOrderRef>()
                    .Where(order => order.SupersededAt == null && Sql.Upper(order.PoNumber) == wanted)
                    .ToListAsync(cancellationToken)).SingleOrDefault()
                ?? throw DomainException.WithReason(ErrorKind.NotFound, $"No current purchase order '{poNumber}'.", "PO_NOT_FOUND", ErrorDomain);
            var poLines = (await unitOfWork.Db.GetTable<PurchaseOrderLineRef>()
                .Where(line => line.PurchaseOrderId == po.Id).Select(line => line.LineNo).ToListAsync(cancellationToken)).ToHashSet();
            var invoiceLines = (await unitOfWork.Db.GetTable<InvoiceLineRef>()
                .Where(line => line.InvoiceId == item.Invoice.InvoiceId).Select(line => line.LineNo).ToListAsync(cancellationToken)).ToHashSet();
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

    public Task<ExceptionView> RejectAsync(Caller caller, Guid exceptionId, string reason, string? requestId, CancellationToken cancellationToken) =>
        ActAsync(caller, exceptionId, "reject", requestId, forceInvoice: false,
            async (unitOfWork, item, decidedAt) =>
            {
                var decisionId = await CloseInvoiceAsync(unitOfWork, caller, item, InvoiceEvaluation.Rejected, "dismissed", reason, decidedAt, cancellationToken);
                return new { invoiceStatus = InvoiceEvaluation.Rejected, decisionId, reason };
            },
            cancellationToken);

    /// <summary>The reviewer's decision on the invoice, and the item closed with it; returns the decision's id.</summary>
    private static async Task<Guid> CloseInvoiceAsync(
        TenantUnitOfWork unitOfWork, Caller caller, ExceptionView item, string invoiceStatus, string state, string reason, DateTime decidedAt,
        CancellationToken cancellationToken)
    {
        var decisionId = await ReviewerDecisionStore.AppendAsync(
            unitOfWork, item.Invoice.InvoiceId, invoiceStatus, decidedAt, DecidedBy(caller), reason, cancellationToken);
        await unitOfWork.Db.GetTable<ExceptionStateRow>()
            .Where(exception => exception.Id == item.Id)
            .Set(exception => exception.Status, state)
            .Set(exception => exception.ResolvedAt, () => Sql.CurrentTimestamp)
            .Set(exception => exception.ResolvedBy, caller.Kind == CallerKind.User ? caller.UserId : (Guid?)null)
            .Set(exception => exception.ResolutionNote, reason)
            .Set(exception => exception.MatchDecisionId, decisionId)
            .Set(exception => exception.UpdatedAt, () => Sql.CurrentTimestamp)
            .UpdateAsync(cancellationToken);
        return decisionId;
    }

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
        var after = await WithApprovalAsync(
            unitOfWork, await ExceptionQueries.GetAsync(unitOfWork, exceptionId, forUpdate: false, cancellationToken) ?? throw NotFound(exceptionId), cancellationToken);
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

    [Table("exceptions")]
    private sealed class ExceptionStateRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("status")] public string Status { get; set; } = "";

        [Column("assignee_id")] public Guid? AssigneeId { get; set; }

        [Column("resolved_at")] public DateTime? ResolvedAt { get; set; }

        [Column("resolved_by")] public Guid? ResolvedBy { get; set; }

        [Column("resolution_note")] public string? ResolutionNote { get; set; }

        [Column("match_decision_id")] public Guid MatchDecisionId { get; set; }

        [Column("updated_at")] public DateTime UpdatedAt { get; set; }
    }

    [Table("users")]
    private sealed class ActiveUserRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("disabled_at")] public DateTime? DisabledAt { get; set; }
    }

    [Table("purchase_orders")]
    private sealed class PurchaseOrderRef
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("po_number")] public string PoNumber { get; set; } = "";

        [Column("superseded_at")] public DateTime? SupersededAt { get; set; }
    }

    [Table("purchase_order_lines")]
    private sealed class PurchaseOrderLineRef
    {
        [Column("purchase_order_id")] public Guid PurchaseOrderId { get; set; }

        [Column("line_no")] public int LineNo { get; set; }
    }

    [Table("invoice_lines")]
    private sealed class InvoiceLineRef
    {
        [Column("invoice_id")] public Guid InvoiceId { get; set; }

        [Column("line_no")] public int LineNo { get; set; }
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
