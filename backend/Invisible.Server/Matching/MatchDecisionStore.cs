using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Matching;
using Npgsql;
using NpgsqlTypes;

namespace Invisible.Server.Matching;

/// <summary>
/// Appends reconcile runs to <c>match_decisions</c> / <c>line_decisions</c> (append-only: a run never changes an earlier
/// decision; the newest decision of an invoice is its current one) and keeps the exception queue in step with them.
/// </summary>
public static class MatchDecisionStore
{
    /// <summary>
    /// Set-based statements of a run over a whole tenant (100,000 invoices take far more than the 30-second default on a
    /// busy machine); the caller's cancellation token is what bounds a run, as for imports.
    /// </summary>
    internal const int RunCommandTimeoutSeconds = 3600;

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

    /// <summary>
    /// Appends one decision per invoice of <paramref name="result"/> with its line decisions, set-based: the rows are
    /// serialised on all cores, streamed by binary COPY into temporary tables (COPY cannot write a table under row-level
    /// security) and moved into <c>match_decisions</c> / <c>line_decisions</c> by one insert each, resolving vendor, PO,
    /// PO line and invoice line ids in the database.
    /// </summary>
    /// <param name="decidedAt">From <see cref="BeginRunAsync"/>.</param>
    public static async Task AppendAsync(
        TenantUnitOfWork unitOfWork, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, LoadedTenant tenant,
        ReconciliationResult result, CancellationToken cancellationToken)
    {
        var decisions = result.Invoices.Select(decision => (Id: Guid.NewGuid(), Decision: decision)).ToList();
        var (decisionRows, lineRows) = Rows(decisions, tenant);
        await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            """
            drop table if exists pg_temp.run_decisions, pg_temp.run_line_decisions;
            create temp table run_decisions (
                id uuid, invoice_id uuid, status text, reason text, vendor_code text, po_number text, po_version int, duplicate_of uuid,
                tolerance_id uuid, explanation jsonb, evidence jsonb) on commit drop;
            create temp table run_line_decisions (
                decision_id uuid, invoice_id uuid, source_line int, status text, po_number text, po_version int, po_line_no int,
                explanation jsonb) on commit drop;
            """,
            transaction: unitOfWork.Transaction,
            cancellationToken: cancellationToken));

        await using (var importer = await unitOfWork.Connection.BeginBinaryImportAsync(
            "copy run_decisions (id, invoice_id, status, reason, vendor_code, po_number, po_version, duplicate_of, tolerance_id, explanation, evidence) from stdin (format binary)",
            cancellationToken))
        {
            importer.Timeout = TimeSpan.FromSeconds(RunCommandTimeoutSeconds);
            foreach (var row in decisionRows)
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(row.Id, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(row.InvoiceId, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(row.Status, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, row.Reason, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, row.VendorCode, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, row.PoNumber, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, row.PoVersion, NpgsqlDbType.Integer, cancellationToken);
                await WriteNullableAsync(importer, row.DuplicateOf, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(row.ToleranceId, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(row.Explanation, NpgsqlDbType.Jsonb, cancellationToken);
                await importer.WriteAsync(row.Evidence, NpgsqlDbType.Jsonb, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        await using (var importer = await unitOfWork.Connection.BeginBinaryImportAsync(
            "copy run_line_decisions (decision_id, invoice_id, source_line, status, po_number, po_version, po_line_no, explanation) from stdin (format binary)",
            cancellationToken))
        {
            importer.Timeout = TimeSpan.FromSeconds(RunCommandTimeoutSeconds);
            foreach (var row in lineRows)
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(row.DecisionId, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(row.InvoiceId, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(row.SourceLine, NpgsqlDbType.Integer, cancellationToken);
                await importer.WriteAsync(row.Status, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, row.PoNumber, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, row.PoVersion, NpgsqlDbType.Integer, cancellationToken);
                await WriteNullableAsync(importer, row.PoLineNo, NpgsqlDbType.Integer, cancellationToken);
                await importer.WriteAsync(row.Explanation, NpgsqlDbType.Jsonb, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        var parameters = new { tenantId = unitOfWork.TenantId, runId, decidedAt, decidedBy, engineVersion };
        await RunCommandAsync(unitOfWork, "analyze run_decisions, run_line_decisions", null, cancellationToken);
        await RunCommandAsync(unitOfWork,
            """
            insert into match_decisions (id, tenant_id, invoice_id, run_id, decided_at, decided_by, engine_version, invoice_status, vendor_id,
                                         purchase_order_id, duplicate_of, tolerance_id, explanation, evidence)
            select d.id, @tenantId, d.invoice_id, @runId, @decidedAt, @decidedBy, @engineVersion, d.status, v.id, p.id, d.duplicate_of, d.tolerance_id,
                   d.explanation, d.evidence
            from run_decisions d
            left join vendors v on v.vendor_code = d.vendor_code
            left join purchase_orders p on p.po_number = d.po_number and p.version = d.po_version
            """,
            parameters, cancellationToken);
        await RunCommandAsync(unitOfWork,
            """
            insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
            select @tenantId, d.decision_id, il.id, pl.id, d.status, d.explanation
            from run_line_decisions d
            join invoice_lines il on il.invoice_id = d.invoice_id and il.source_line = d.source_line
            left join purchase_orders p on p.po_number = d.po_number and p.version = d.po_version
            left join purchase_order_lines pl on pl.purchase_order_id = p.id and pl.line_no = d.po_line_no
            """,
            parameters, cancellationToken);

        await RefreshExceptionsAsync(unitOfWork, cancellationToken);

        // The invoice row carries its current outcome so lists can filter by status without reading the decision history;
        // rows whose outcome did not change are left alone (a re-run would otherwise rewrite every invoice and its indexes).
        await RunCommandAsync(unitOfWork,
            """
            update invoices i set status = d.invoice_status, vendor_id = d.vendor_id, purchase_order_id = d.purchase_order_id, updated_at = now()
            from match_decisions d
            where d.run_id = @runId and i.id = d.invoice_id
              and (i.status, i.vendor_id, i.purchase_order_id) is distinct from (d.invoice_status, d.vendor_id, d.purchase_order_id)
            """,
            new { runId }, cancellationToken);
    }

    /// <summary>The staged rows of a run: pure and independent per decision, so serialised in parallel, in decision order.</summary>
    private static (DecisionRow[] Decisions, List<LineRow> Lines) Rows(List<(Guid Id, InvoiceDecision Decision)> decisions, LoadedTenant tenant)
    {
        var decisionRows = new DecisionRow[decisions.Count];
        var lineRows = new LineRow[decisions.Count][];
        Parallel.For(0, decisions.Count, i =>
        {
            var (id, decision) = decisions[i];
            var invoiceId = Guid.Parse(decision.InvoiceId);
            decisionRows[i] = new DecisionRow(
                id, invoiceId, decision.Status.ToExportName(), ExceptionReason(decision), decision.VendorCode, decision.Po.PoNumber, decision.Po.PoVersion,
                decision.DuplicateOfInvoiceId is { } original ? Guid.Parse(original) : null, tenant.ToleranceIdFor(decision.VendorCode),
                Json(InvoiceExplanation(decision)), Json(InvoiceEvidence(decision)));
            lineRows[i] = decision.Lines.Select(line => new LineRow(
                id, invoiceId, line.SourceLine, line.Status.ToExportName(), line.PoNumber, line.Evidence?.PoVersion ?? decision.Po.PoVersion, line.PoLineNo,
                Json(new
                {
                    text = line.Explanation,
                    pairedBy = line.PairedBy,
                    poNumber = line.PoNumber,
                    poLineNo = line.PoLineNo,
                    evidence = line.Evidence,
                }))).ToArray();
        });
        return (decisionRows, lineRows.SelectMany(lines => lines).ToList());
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : class =>
        value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, type, cancellationToken);

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } present ? importer.WriteAsync(present, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    private sealed record DecisionRow(
        Guid Id, Guid InvoiceId, string Status, string? Reason, string? VendorCode, string? PoNumber, int? PoVersion, Guid? DuplicateOf,
        Guid ToleranceId, string Explanation, string Evidence);

    private sealed record LineRow(
        Guid DecisionId, Guid InvoiceId, int SourceLine, string Status, string? PoNumber, int? PoVersion, int? PoLineNo, string Explanation);

    /// <summary>
    /// One open exception per invoice that needs a person: an open one is pointed at the new decision and its reason
    /// refreshed; one whose invoice no longer needs review is resolved by the run. Reads the run from <c>run_decisions</c>.
    /// <c>not exists</c>, not <c>not in</c>: PostgreSQL hashes the anti-join, where a <c>not in</c> over a CTE it expects
    /// to be large is re-scanned for every invoice of the run (quadratic once many exceptions are open).
    /// </summary>
    private static Task RefreshExceptionsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        RunCommandAsync(unitOfWork,
            """
            with run as (
                select id as decision_id, invoice_id, reason, status from run_decisions
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
            where run.reason is not null and not exists (select from refreshed where refreshed.invoice_id = run.invoice_id)
            """,
            new { tenantId = unitOfWork.TenantId }, cancellationToken);

    private static async Task RunCommandAsync(TenantUnitOfWork unitOfWork, string sql, object? parameters, CancellationToken cancellationToken) =>
        await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(sql, parameters, unitOfWork.Transaction, RunCommandTimeoutSeconds, cancellationToken: cancellationToken));

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
            commandTimeout: RunCommandTimeoutSeconds,
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
