using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Matching;

namespace Invisible.Server.Matching;

/// <summary>
/// Appends reconcile runs to <c>match_decisions</c> / <c>line_decisions</c> (append-only: a run never changes an earlier
/// decision; the newest decision of an invoice is its current one) and keeps the exception queue in step with them.
/// </summary>
public static class MatchDecisionStore
{
    /// <summary>Explanations and evidence as stored in jsonb: web casing, enums by name, so they read without the code.</summary>
    internal static readonly JsonSerializerOptions EvidenceJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Serialises reconcile runs of the unit of work's tenant until it ends, and returns the moment the run decides at.
    /// Call it before loading the snapshot: a run must see the decisions and documents its predecessor committed.
    /// </summary>
    /// <remarks>The time is read after the lock, not the transaction's start, so the newest decision is always the last run's.</remarks>
    public static Task<DateTime> BeginRunAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        unitOfWork.Connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(
            """
            select clock_timestamp() from (select pg_advisory_xact_lock(hashtextextended('invisible.reconcile:' || @tenantId::text, 0))) locked
            """,
            new { tenantId = unitOfWork.TenantId },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));

    /// <summary>Appends one decision per invoice of <paramref name="result"/> with its line decisions, set-based.</summary>
    /// <param name="decidedAt">From <see cref="BeginRunAsync"/>.</param>
    public static async Task AppendAsync(
        TenantUnitOfWork unitOfWork, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, LoadedTenant tenant,
        ReconciliationResult result, CancellationToken cancellationToken)
    {
        var decisions = result.Invoices.Select(decision => (Id: Guid.NewGuid(), Decision: decision)).ToList();
        await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into match_decisions (id, tenant_id, invoice_id, run_id, decided_at, decided_by, engine_version, invoice_status, vendor_id,
                                         purchase_order_id, duplicate_of, tolerance_id, explanation, evidence)
            select d.id, @tenantId, d.invoice_id, @runId, @decidedAt, @decidedBy, @engineVersion, d.status, v.id, p.id, d.duplicate_of, d.tolerance_id,
                   d.explanation::jsonb, d.evidence::jsonb
            from unnest(@ids, @invoiceIds, @statuses, @vendorCodes, @poNumbers, @poVersions, @duplicateOf, @toleranceIds, @explanations, @evidence)
                 as d(id, invoice_id, status, vendor_code, po_number, po_version, duplicate_of, tolerance_id, explanation, evidence)
            left join vendors v on v.vendor_code = d.vendor_code
            left join purchase_orders p on p.po_number = d.po_number and p.version = d.po_version
            """,
            new
            {
                tenantId = unitOfWork.TenantId,
                runId,
                decidedAt,
                decidedBy,
                engineVersion,
                ids = decisions.Select(d => d.Id).ToArray(),
                invoiceIds = decisions.Select(d => Guid.Parse(d.Decision.InvoiceId)).ToArray(),
                statuses = decisions.Select(d => d.Decision.Status.ToExportName()).ToArray(),
                vendorCodes = decisions.Select(d => d.Decision.VendorCode).ToArray(),
                poNumbers = decisions.Select(d => d.Decision.Po.PoNumber).ToArray(),
                poVersions = decisions.Select(d => d.Decision.Po.PoVersion).ToArray(),
                duplicateOf = decisions.Select(d => d.Decision.DuplicateOfInvoiceId is { } id ? Guid.Parse(id) : (Guid?)null).ToArray(),
                toleranceIds = decisions.Select(d => tenant.ToleranceIdFor(d.Decision.VendorCode)).ToArray(),
                explanations = decisions.Select(d => Json(InvoiceExplanation(d.Decision))).ToArray(),
                evidence = decisions.Select(d => Json(InvoiceEvidence(d.Decision))).ToArray(),
            },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));

        var lines = decisions
            .SelectMany(d => d.Decision.Lines.Select(line => (DecisionId: d.Id, InvoiceId: Guid.Parse(d.Decision.InvoiceId), d.Decision.Po.PoVersion, Line: line)))
            .ToList();
        await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            """
            insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
            select @tenantId, d.decision_id, il.id, pl.id, d.status, d.explanation::jsonb
            from unnest(@decisionIds, @invoiceIds, @sourceLines, @statuses, @poNumbers, @poVersions, @poLineNos, @explanations)
                 as d(decision_id, invoice_id, source_line, status, po_number, po_version, po_line_no, explanation)
            join invoice_lines il on il.invoice_id = d.invoice_id and il.source_line = d.source_line
            left join purchase_orders p on p.po_number = d.po_number and p.version = d.po_version
            left join purchase_order_lines pl on pl.purchase_order_id = p.id and pl.line_no = d.po_line_no
            """,
            new
            {
                tenantId = unitOfWork.TenantId,
                decisionIds = lines.Select(l => l.DecisionId).ToArray(),
                invoiceIds = lines.Select(l => l.InvoiceId).ToArray(),
                sourceLines = lines.Select(l => l.Line.SourceLine).ToArray(),
                statuses = lines.Select(l => l.Line.Status.ToExportName()).ToArray(),
                poNumbers = lines.Select(l => l.Line.PoNumber).ToArray(),
                poVersions = lines.Select(l => l.Line.Evidence?.PoVersion ?? l.PoVersion).ToArray(),
                poLineNos = lines.Select(l => l.Line.PoLineNo).ToArray(),
                explanations = lines.Select(l => Json(new
                {
                    text = l.Line.Explanation,
                    pairedBy = l.Line.PairedBy,
                    poNumber = l.Line.PoNumber,
                    poLineNo = l.Line.PoLineNo,
                    evidence = l.Line.Evidence,
                })).ToArray(),
            },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));

        await RefreshExceptionsAsync(unitOfWork, decisions, cancellationToken);

        // The invoice row carries its current outcome so lists can filter by status without reading the decision history.
        await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            """
            update invoices i set status = d.invoice_status, vendor_id = d.vendor_id, purchase_order_id = d.purchase_order_id, updated_at = now()
            from match_decisions d where d.run_id = @runId and i.id = d.invoice_id
            """,
            new { runId },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));
    }

    /// <summary>
    /// One open exception per invoice that needs a person: an open one is pointed at the new decision and its reason
    /// refreshed; one whose invoice no longer needs review is resolved by the run.
    /// </summary>
    private static async Task RefreshExceptionsAsync(
        TenantUnitOfWork unitOfWork, List<(Guid Id, InvoiceDecision Decision)> decisions, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            tenantId = unitOfWork.TenantId,
            decisionIds = decisions.Select(d => d.Id).ToArray(),
            invoiceIds = decisions.Select(d => Guid.Parse(d.Decision.InvoiceId)).ToArray(),
            reasons = decisions.Select(d => ExceptionReason(d.Decision)).ToArray(),
            statuses = decisions.Select(d => d.Decision.Status.ToExportName()).ToArray(),
        };
        await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            """
            with run as (
                select * from unnest(@decisionIds, @invoiceIds, @reasons, @statuses) as r(decision_id, invoice_id, reason, status)
            ),
            refreshed as (
                update exceptions e
                set match_decision_id = run.decision_id, updated_at = now(),
                    reason = coalesce(run.reason, e.reason),
                    status = case when run.reason is null then 'resolved' else e.status end,
                    resolved_at = case when run.reason is null then now() end,
                    resolution_note = case when run.reason is null then 'Cleared by re-matching: the invoice is now ' || run.status end
                from run
                where e.invoice_id = run.invoice_id and e.status in ('open', 'in_review')
                returning e.invoice_id
            )
            insert into exceptions (tenant_id, invoice_id, match_decision_id, reason)
            select @tenantId, run.invoice_id, run.decision_id, run.reason
            from run
            where run.reason is not null and run.invoice_id not in (select invoice_id from refreshed)
            """,
            parameters,
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));
    }

    /// <summary>Why the invoice needs a person (comma-separated, rule order), or null when it does not.</summary>
    internal static string? ExceptionReason(InvoiceDecision decision) => decision.Status switch
    {
        InvoiceStatus.Duplicate or InvoiceStatus.NoPo => decision.Status.ToExportName(),
        InvoiceStatus.Exception => string.Join(',', decision.Lines
            .Select(line => line.Status)
            .Where(status => status is LineStatus.Unmatched or LineStatus.QuantityVariance or LineStatus.PriceVariance)
            .Distinct()
            .Order()
            .Select(status => status.ToExportName())
            .Concat(decision.Totals.AddsUp ? [] : ["totals"])),
        _ => null,
    };

    /// <summary>The current <c>results.csv</c> rows (FORMATS section 3): each invoice's newest decision, in import order then source line.</summary>
    public static async Task<IReadOnlyList<ResultsRow>> LatestResultsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        (await unitOfWork.Connection.QueryAsync<ResultsRow>(new CommandDefinition(
            $"""
            {LatestDecisionsSql}
            select i.invoice_number as InvoiceNumber, coalesce(v.vendor_code, '') as VendorCode, d.invoice_status as InvoiceStatus,
                   il.line_no as LineNo, ld.line_status as LineStatus, coalesce(p.po_number, '') as PoNumber, pl.line_no as PoLineNo,
                   il.source_line as SourceLine
            from latest d
            join invoices i on i.id = d.invoice_id
            join imports m on m.id = i.import_id
            join line_decisions ld on ld.match_decision_id = d.id
            join invoice_lines il on il.id = ld.invoice_line_id
            left join vendors v on v.id = d.vendor_id
            left join purchase_order_lines pl on pl.id = ld.purchase_order_line_id
            left join purchase_orders p on p.id = pl.purchase_order_id
            order by m.import_no, il.source_line
            """,
            transaction: unitOfWork.Transaction,
            cancellationToken: cancellationToken))).ToList();

    /// <summary>A CTE <c>latest</c>: the newest decision of every invoice (runs are serialised and stamped in order by <see cref="BeginRunAsync"/>).</summary>
    internal const string LatestDecisionsSql = """
        with latest as (
            select distinct on (invoice_id) *
            from match_decisions
            order by invoice_id, decided_at desc, id
        )
        """;

    private static string Json(object value) => JsonSerializer.Serialize(value, EvidenceJson);

    private static object InvoiceExplanation(InvoiceDecision decision) => new
    {
        text = decision.Explanation,
        vendor = decision.Vendor.Explanation,
        po = decision.Po.Explanation,
        totals = decision.Totals.AddsUp
            ? null
            : $"The printed total {decision.Totals.PrintedTotal} differs from the sum of lines and taxes {decision.Totals.SumOfLines} by more than {decision.Totals.Tolerance}.",
    };

    private static object InvoiceEvidence(InvoiceDecision decision) => new
    {
        vendor = new { code = decision.VendorCode, score = decision.Vendor.Score, decision.Vendor.Evidence },
        po = new { number = decision.Po.PoNumber, version = decision.Po.PoVersion, identifiedBy = decision.Po.IdentifiedBy, candidates = decision.Po.Candidates },
        totals = new
        {
            printed = decision.Totals.PrintedTotal,
            sumOfLines = decision.Totals.SumOfLines,
            difference = decision.Totals.Difference,
            tolerance = decision.Totals.Tolerance,
            addsUp = decision.Totals.AddsUp,
        },
        duplicateOf = decision.DuplicateOfInvoiceId,
        toleranceVersion = decision.ToleranceVersion,
    };
}
