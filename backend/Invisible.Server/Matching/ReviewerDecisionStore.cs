using LinqToDB.Data;
using Invisible.Data.Tenancy;

namespace Invisible.Server.Matching;

/// <summary>
/// Appends a reviewer's final decision on an invoice (<c>approved</c>: an override accepting it as it is; <c>rejected</c>:
/// not payable). It repeats the vendor, PO, tolerance version, evidence and line outcomes of the decision it overrides, so
/// the invoice page and the export still show what the engine saw, and records who decided, why and what it replaced.
/// </summary>
public static class ReviewerDecisionStore
{
    /// <returns>The new decision's id.</returns>
    /// <exception cref="InvalidOperationException">The invoice has no decision to override.</exception>
    public static async Task<Guid> AppendAsync(
        TenantUnitOfWork unitOfWork, Guid invoiceId, string status, DateTime decidedAt, string decidedBy, string reason, CancellationToken cancellationToken)
    {
        if (!InvoiceEvaluation.IsFinal(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A reviewer's final decision is approved or rejected.");
        }

        var decisionId = Guid.NewGuid();
        // SQL: the reviewer's decision copies the previous one's columns (insert ... select ... returning) in one statement.
        var previous = await unitOfWork.Db.ExecuteAsync<Guid?>(
            """
            insert into match_decisions (id, tenant_id, invoice_id, run_id, decided_at, decided_by, engine_version, invoice_status, vendor_id,
                                         purchase_order_id, duplicate_of, tolerance_id, explanation, evidence)
            select @decisionId, d.tenant_id, d.invoice_id, @decisionId, @decidedAt, @decidedBy, d.engine_version, @status, d.vendor_id,
                   d.purchase_order_id, d.duplicate_of, d.tolerance_id,
                   (d.explanation::jsonb || jsonb_build_object(
                       'text', @text,
                       'override', jsonb_build_object('status', @status, 'reason', @reason, 'decidedBy', @decidedBy,
                                                      'previousStatus', d.invoice_status, 'previousDecisionId', d.id)))::json,
                   d.evidence
            from (select * from match_decisions where invoice_id = @invoiceId order by decided_at desc, id limit 1) d
            returning (explanation->'override'->>'previousDecisionId')::uuid
            """, new
            {
                decisionId,
                invoiceId,
                decidedAt,
                decidedBy,
                status,
                reason,
                text = status == InvoiceEvaluation.Approved ? $"Approved by a reviewer as it is: {reason}" : $"Rejected by a reviewer, not payable: {reason}",
            }, cancellationToken)
            ?? throw new InvalidOperationException($"Invoice {invoiceId} has no decision to override.");

        // SQL: set-based copy of the previous decision's lines (insert ... select).
        await unitOfWork.Db.ExecuteAsync(
            """
            insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
            select tenant_id, @decisionId, invoice_line_id, purchase_order_line_id, line_status, explanation
            from line_decisions where match_decision_id = @previous;
            update invoices set status = @status, updated_at = now() where id = @invoiceId;
            """, new { decisionId, previous, status, invoiceId }, cancellationToken);
        return decisionId;
    }
}
