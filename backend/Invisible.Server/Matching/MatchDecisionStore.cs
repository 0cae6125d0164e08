using Invisible.Data.Access;
using System.Text.Json;
using System.Text.Json.Serialization;
using LinqToDB.Data;
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

    /// <summary>Explanations and evidence as stored (json): web casing, enums by name, so they read without the code.</summary>
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
        // SQL: pg_advisory_xact_lock and clock_timestamp(), which linq2db has no API for.
        unitOfWork.Db.ExecuteAsync<DateTime>(
            """
            select clock_timestamp() from (select pg_advisory_xact_lock(hashtextextended('invisible.reconcile:' || @tenantId::text, 0))) locked
            """, new { tenantId = unitOfWork.TenantId }, cancellationToken);

    /// <summary>Decisions per round trip: bounds each statement's arrays (about 20 MB of JSON), the two buffers they are written into and what the server holds of them.</summary>
    internal const int ChunkSize = 5_000;

    /// <summary>Server memory for a chunk's new rows while their references are checked (<see cref="ChunkSize"/> decisions fit).</summary>
    private const string TransitionMemory = "128MB";

    /// <summary>
    /// Appends one decision per invoice of <paramref name="result"/> with its line decisions, then brings the exception
    /// queue and the invoices' current outcome in step. Every id a row references comes from the snapshot
    /// (<see cref="LoadedTenant.Keys"/>, read in this transaction), so the inserts join nothing; the JSON is written
    /// straight to UTF-8. The rows go to the database in chunks, as arrays the statements <c>unnest</c> (COPY cannot write
    /// a table under row-level security, and a staging table costs a write and a read of every row), and the next chunk is
    /// prepared on a worker thread while the database stores the current one.
    /// </summary>
    /// <param name="decidedAt">From <see cref="BeginRunAsync"/>.</param>
    public static Task AppendAsync(
        TenantUnitOfWork unitOfWork, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, LoadedTenant tenant,
        ReconciliationResult result, CancellationToken cancellationToken) =>
        AppendAsync(unitOfWork, runId, decidedAt, decidedBy, engineVersion, tenant, result, ChunkSize, storedInvoices: null, cancellationToken);

    /// <inheritdoc cref="AppendAsync(TenantUnitOfWork, Guid, DateTime, string, string, LoadedTenant, ReconciliationResult, CancellationToken)"/>
    /// <param name="storedInvoices">Called with how many decisions are stored after each chunk.</param>
    public static Task AppendAsync(
        TenantUnitOfWork unitOfWork, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, LoadedTenant tenant,
        ReconciliationResult result, Action<int>? storedInvoices, CancellationToken cancellationToken) =>
        AppendAsync(unitOfWork, runId, decidedAt, decidedBy, engineVersion, tenant, result, ChunkSize, storedInvoices, cancellationToken);

    /// <param name="chunkSize">Decisions per round trip (<see cref="ChunkSize"/>; tests take smaller chunks).</param>
    /// <param name="storedInvoices">Called with 0 as the first chunk is sent, then with how many decisions are stored after each chunk.</param>
    internal static async Task AppendAsync(
        TenantUnitOfWork unitOfWork, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, LoadedTenant tenant,
        ReconciliationResult result, int chunkSize, Action<int>? storedInvoices, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        if (result.Invoices.Count == 0)
        {
            return;
        }

        await AppendChunksAsync(unitOfWork, runId, decidedAt, decidedBy, engineVersion, tenant, InChunks(result.Invoices, chunkSize), storedInvoices, cancellationToken);
    }

    /// <summary>
    /// As <see cref="AppendAsync(TenantUnitOfWork, Guid, DateTime, string, string, LoadedTenant, ReconciliationResult, CancellationToken)"/>
    /// for decisions that arrive in batches while they are being made (a reconcile run storing as the engine decides): they
    /// are gathered into chunks of <see cref="ChunkSize"/> and each chunk is stored, and let go, as soon as it is full, so
    /// only a few chunks of the run are ever in memory.
    /// </summary>
    /// <returns>How many decisions were stored.</returns>
    public static Task<int> AppendAsync(
        TenantUnitOfWork unitOfWork, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, LoadedTenant tenant,
        IAsyncEnumerable<IReadOnlyList<InvoiceDecision>> batches, Action<int>? storedInvoices, CancellationToken cancellationToken) =>
        AppendChunksAsync(unitOfWork, runId, decidedAt, decidedBy, engineVersion, tenant, Regrouped(batches, ChunkSize, cancellationToken), storedInvoices, cancellationToken);

    private static async IAsyncEnumerable<IReadOnlyList<InvoiceDecision>> InChunks(IReadOnlyList<InvoiceDecision> decisions, int chunkSize)
    {
        await Task.CompletedTask;
        for (var from = 0; from < decisions.Count; from += chunkSize)
        {
            var chunk = new InvoiceDecision[Math.Min(chunkSize, decisions.Count - from)];
            for (var i = 0; i < chunk.Length; i++)
            {
                chunk[i] = decisions[from + i];
            }

            yield return chunk;
        }
    }

    private static async IAsyncEnumerable<IReadOnlyList<InvoiceDecision>> Regrouped(
        IAsyncEnumerable<IReadOnlyList<InvoiceDecision>> batches, int chunkSize,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunk = new List<InvoiceDecision>(chunkSize);
        await foreach (var batch in batches.WithCancellation(cancellationToken))
        {
            foreach (var decision in batch)
            {
                chunk.Add(decision);
                if (chunk.Count == chunkSize)
                {
                    yield return chunk;
                    chunk = new List<InvoiceDecision>(chunkSize);
                }
            }
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>The chunks are stored one after another; the next is read and prepared on a worker thread while one is sent.</summary>
    private static async Task<int> AppendChunksAsync(
        TenantUnitOfWork unitOfWork, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, LoadedTenant tenant,
        IAsyncEnumerable<IReadOnlyList<InvoiceDecision>> chunks, Action<int>? storedInvoices, CancellationToken cancellationToken)
    {
        // The reference checks read each insert's new rows from a transition table: kept in memory for a whole chunk
        // (its documents are tens of megabytes) instead of spilled to a temporary file and read back; measured on
        // 10,000 decisions of 4 kB, 380 ms per insert against 540 to 880 ms with the default 4 MB. Until the transaction ends.
        // SQL: 'set local', a session setting rather than a query.
        await unitOfWork.Db.ExecuteAsync(
            $"set local work_mem = '{TransitionMemory}'", cancellationToken);

        var ids = new SequentialUuid();
        // Two buffers in turn: one is being filled for the next chunk while the other's chunk is being sent.
        var buffers = new[] { new DecisionJson.Buffer(), new DecisionJson.Buffer() };
        var storedCount = 0;
        var source = chunks.GetAsyncEnumerator(cancellationToken);
        Task<Chunk?> Build(int chunk) => Task.Run(
            async () => await source.MoveNextAsync()
                ? Chunk.Build(source.Current, 0, source.Current.Count, ids, buffers[chunk % 2], tenant)
                : null,
            cancellationToken);

        var next = Build(0);
        try
        {
            for (var chunk = 0; await next is { } current; chunk++)
            {
                next = Build(chunk + 1);
                if (chunk == 0)
                {
                    storedInvoices?.Invoke(0);
                }

                await InsertAsync(unitOfWork, current, runId, decidedAt, decidedBy, engineVersion, cancellationToken);
                storedCount += current.DecisionIds.Length;
                storedInvoices?.Invoke(storedCount);
            }
        }
        finally
        {
            // A failed insert leaves the next chunk being built: let it finish before its buffer goes.
            await next.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            await source.DisposeAsync();
            foreach (var buffer in buffers)
            {
                buffer.Dispose();
            }
        }

        if (storedCount == 0)
        {
            return 0;
        }

        if (storedCount >= BulkDecisions)
        {
            // A reconcile run (or a re-evaluation after an import) rewrote the tenant's outcomes: the lists, the queue and the
            // dashboard are planned on these tables' statistics, which autovacuum would refresh only some time later.
            await TableStatistics.RefreshAsync(unitOfWork, ["match_decisions", "line_decisions", "exceptions", "invoices"], cancellationToken);
        }

        return storedCount;
    }

    /// <summary>
    /// From this many decisions a run refreshes the statistics of what it wrote; a reviewer's single decision leaves that to
    /// autovacuum rather than paying for a sample of the whole tenant.
    /// </summary>
    internal const int BulkDecisions = 500;

    private static async Task InsertAsync(
        TenantUnitOfWork unitOfWork, Chunk chunk, Guid runId, DateTime decidedAt, string decidedBy, string engineVersion, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(unitOfWork.Connection, unitOfWork.Transaction) { Timeout = RunCommandTimeoutSeconds };
        batch.BatchCommands.Add(Command(
            """
            insert into match_decisions (id, tenant_id, invoice_id, run_id, decided_at, decided_by, engine_version, invoice_status, vendor_id,
                                         purchase_order_id, duplicate_of, tolerance_id, explanation, evidence)
            select unnest($6::uuid[]), $1, unnest($7::uuid[]), $2, $3, $4, $5, unnest($8::text[]), unnest($9::uuid[]), unnest($10::uuid[]),
                   unnest($11::uuid[]), unnest($12::uuid[]), unnest($13::json[]), unnest($14::json[])
            """,
            Value(unitOfWork.TenantId), Value(runId), new NpgsqlParameter<DateTime> { TypedValue = decidedAt, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            Value(decidedBy), Value(engineVersion), Value(chunk.DecisionIds), Value(chunk.InvoiceIds), Value(chunk.Statuses), Value(chunk.VendorIds),
            Value(chunk.PurchaseOrderIds), Value(chunk.DuplicateOf), Value(chunk.ToleranceIds), Documents(chunk.Explanations, NpgsqlDbType.Json),
            Documents(chunk.Evidence, NpgsqlDbType.Json)));
        batch.BatchCommands.Add(Command(
            """
            insert into line_decisions (id, tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
            select unnest($2::uuid[]), $1, unnest($3::uuid[]), unnest($4::uuid[]), unnest($5::uuid[]), unnest($6::text[]), unnest($7::json[])
            """,
            Value(unitOfWork.TenantId), Value(chunk.LineIds), Value(chunk.LineDecisionIds), Value(chunk.InvoiceLineIds), Value(chunk.PurchaseOrderLineIds),
            Value(chunk.LineStatuses), Documents(chunk.LineExplanations, NpgsqlDbType.Json)));
        AddRefresh(batch, unitOfWork, chunk);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The exception queue and the invoices' current outcome for the chunk's invoices, in the chunk's batch: a run decides
    /// each invoice once, so chunk by chunk is the same as the whole run at once, and this work is done while the engine
    /// decides the next chunk instead of after the last (the first run of a tenant rewrites every invoice row and its
    /// indexes, which took longer than any other statement of the run).
    /// </summary>
    /// <remarks>
    /// One open exception per invoice that needs a person: an open one is pointed at the new decision and its reason
    /// refreshed; one whose invoice no longer needs review is resolved by the run. <c>not exists</c>, not <c>not in</c>:
    /// PostgreSQL hashes the anti-join, where a <c>not in</c> over a CTE it expects to be large is re-scanned for every
    /// invoice (quadratic once many exceptions are open). The invoice row carries its current outcome so lists can filter
    /// by status without reading the decision history; rows whose outcome did not change are left alone (a re-run would
    /// otherwise rewrite every invoice and its indexes).
    /// </remarks>
    private static void AddRefresh(NpgsqlBatch batch, TenantUnitOfWork unitOfWork, Chunk chunk)
    {
        batch.BatchCommands.Add(Command(
            """
            with run as (
                select * from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) as r (decision_id, invoice_id, reason, status)
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
            select $1, run.invoice_id, run.decision_id, run.reason
            from run
            where run.reason is not null and not exists (select from refreshed where refreshed.invoice_id = run.invoice_id)
            """,
            Value(unitOfWork.TenantId), Value(chunk.DecisionIds), Value(chunk.InvoiceIds), Value(chunk.Reasons), Value(chunk.Statuses)));
        batch.BatchCommands.Add(Command(
            """
            update invoices i set status = d.status, vendor_id = d.vendor_id, purchase_order_id = d.purchase_order_id, updated_at = now()
            from unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[]) as d (invoice_id, status, vendor_id, purchase_order_id)
            where i.id = d.invoice_id
              and (i.status, i.vendor_id, i.purchase_order_id) is distinct from (d.status, d.vendor_id, d.purchase_order_id)
            """,
            Value(chunk.InvoiceIds), Value(chunk.Statuses), Value(chunk.VendorIds), Value(chunk.PurchaseOrderIds)));
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        // SQL: the decision chunks' set-based writes go as one Npgsql batch with unnest() array parameters.
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter<T> Value<T>(T value) => new() { TypedValue = value };

    /// <summary>UTF-8 JSON documents as a json[] array, sent as they are.</summary>
    private static NpgsqlParameter<ReadOnlyMemory<byte>[]> Documents(ReadOnlyMemory<byte>[] documents, NpgsqlDbType type) =>
        new() { TypedValue = documents, NpgsqlDbType = NpgsqlDbType.Array | type };

    /// <summary>
    /// The rows of consecutive decisions as the columns the statements unnest. Built on a worker thread while the previous
    /// chunk is being stored; the JSON documents are slices of the chunk's buffer.
    /// </summary>
    private sealed class Chunk
    {
        public required Guid[] DecisionIds { get; init; }
        public required Guid[] InvoiceIds { get; init; }
        public required string[] Statuses { get; init; }
        public required string?[] Reasons { get; init; }
        public required Guid?[] VendorIds { get; init; }
        public required Guid?[] PurchaseOrderIds { get; init; }
        public required Guid?[] DuplicateOf { get; init; }
        public required Guid[] ToleranceIds { get; init; }
        public required ReadOnlyMemory<byte>[] Explanations { get; init; }
        public required ReadOnlyMemory<byte>[] Evidence { get; init; }
        public required Guid[] LineIds { get; init; }
        public required Guid[] LineDecisionIds { get; init; }
        public required Guid[] InvoiceLineIds { get; init; }
        public required Guid?[] PurchaseOrderLineIds { get; init; }
        public required string[] LineStatuses { get; init; }
        public required ReadOnlyMemory<byte>[] LineExplanations { get; init; }

        public static Chunk Build(
            IReadOnlyList<InvoiceDecision> decisions, int from, int count, SequentialUuid ids, DecisionJson.Buffer json, LoadedTenant tenant)
        {
            var keys = tenant.Keys;
            var decisionIds = new Guid[count];
            var invoiceIds = new Guid[count];
            var statuses = new string[count];
            var reasons = new string?[count];
            var vendorIds = new Guid?[count];
            var purchaseOrderIds = new Guid?[count];
            var duplicateOf = new Guid?[count];
            var toleranceIds = new Guid[count];
            var explanations = new DecisionJson.Document[count];
            var evidence = new DecisionJson.Document[count];
            var lineCount = 0;
            for (var i = 0; i < count; i++)
            {
                lineCount += decisions[from + i].Lines.Count;
            }

            var lineIds = new List<Guid>(lineCount);
            var lineDecisionIds = new List<Guid>(lineCount);
            var invoiceLineIds = new List<Guid>(lineCount);
            var purchaseOrderLineIds = new List<Guid?>(lineCount);
            var lineStatuses = new List<string>(lineCount);
            var lineExplanations = new List<DecisionJson.Document>(lineCount);
            json.Clear();
            for (var i = 0; i < count; i++)
            {
                var decision = decisions[from + i];
                var decisionId = ids.Next();
                var invoiceId = Guid.Parse(decision.InvoiceId);
                decisionIds[i] = decisionId;
                invoiceIds[i] = invoiceId;
                statuses[i] = decision.Status.ToExportName();
                reasons[i] = ExceptionReason(decision);
                vendorIds[i] = keys.VendorId(decision.VendorCode);
                purchaseOrderIds[i] = keys.PurchaseOrderId(decision.Po.PoNumber, decision.Po.PoVersion);
                duplicateOf[i] = decision.DuplicateOfInvoiceId is { } original ? Guid.Parse(original) : null;
                toleranceIds[i] = tenant.ToleranceIdFor(decision.VendorCode);
                explanations[i] = json.Write(decision, DecisionJson.InvoiceExplanation);
                evidence[i] = json.Write(decision, DecisionJson.InvoiceEvidence);
                foreach (var line in decision.Lines)
                {
                    // A line the invoice no longer has is left out, as the insert's join on invoice_lines used to.
                    if (keys.InvoiceLineId(invoiceId, line.SourceLine) is not { } invoiceLineId)
                    {
                        continue;
                    }

                    lineIds.Add(ids.Next());
                    lineDecisionIds.Add(decisionId);
                    invoiceLineIds.Add(invoiceLineId);
                    purchaseOrderLineIds.Add(keys.PurchaseOrderLineId(line.PoNumber, line.Evidence?.PoVersion ?? decision.Po.PoVersion, line.PoLineNo));
                    lineStatuses.Add(line.Status.ToExportName());
                    lineExplanations.Add(json.Write(line, DecisionJson.LineExplanation));
                }
            }

            return new Chunk
            {
                DecisionIds = decisionIds,
                InvoiceIds = invoiceIds,
                Statuses = statuses,
                Reasons = reasons,
                VendorIds = vendorIds,
                PurchaseOrderIds = purchaseOrderIds,
                DuplicateOf = duplicateOf,
                ToleranceIds = toleranceIds,
                Explanations = Array.ConvertAll(explanations, json.Slice),
                Evidence = Array.ConvertAll(evidence, json.Slice),
                LineIds = [.. lineIds],
                LineDecisionIds = [.. lineDecisionIds],
                InvoiceLineIds = [.. invoiceLineIds],
                PurchaseOrderLineIds = [.. purchaseOrderLineIds],
                LineStatuses = [.. lineStatuses],
                LineExplanations = lineExplanations.ConvertAll(json.Slice).ToArray(),
            };
        }
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
        // SQL: the latest decision per invoice is a window query (LatestDecisionsSql), joined to its lines for the export.
        (await unitOfWork.Db.WithCommandTimeout(RunCommandTimeoutSeconds, db => db.QueryToListAsync<ResultsRow>(
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
            """, cancellationToken))).ToList();

    /// <summary>A CTE <c>latest</c>: the newest decision of every invoice (runs are serialised and stamped in order by <see cref="BeginRunAsync"/>).</summary>
    internal const string LatestDecisionsSql = """
        with latest as (
            select distinct on (invoice_id) *
            from match_decisions
            order by invoice_id, decided_at desc, id
        )
        """;
}
