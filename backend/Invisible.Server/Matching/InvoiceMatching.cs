using Invisible.Server.FieldEncryption;
using System.Reflection;
using System.Threading.Channels;
using CsvHelper;
using Invisible.Data.Diagnostics;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using Invisible.Reconciliation.Matching;
using Invisible.Server.Exceptions;

namespace Invisible.Server.Matching;

/// <summary>What one reconcile run decided: how many invoices in each status.</summary>
public sealed record ReconcileSummary(Guid RunId, int ToleranceVersion, IReadOnlyDictionary<InvoiceStatus, int> InvoicesByStatus)
{
    public int InvoiceCount => InvoicesByStatus.Values.Sum();
}

/// <summary>
/// Reconciles a tenant and exports its results: the single code path behind the gRPC <c>MatchingService</c> and the
/// <c>invisible reconcile</c> / <c>invisible export results</c> verbs.
/// </summary>
public sealed class InvoiceMatching(TenantDatabase tenants, TimeProvider time, ILogger<InvoiceMatching> logger, PersonalDataKeys personalDataKeys)
{
    /// <summary>Stored with every decision, so a decision can be traced to the engine that made it.</summary>
    public static readonly string EngineVersion =
        typeof(ReconciliationEngine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ReconciliationEngine).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>
    /// Matches every invoice of the tenant against its current documents and tolerances and appends the decisions, the
    /// exception queue changes, an audit entry and a <see cref="InvoicesReconciled"/> event in one transaction. Earlier
    /// decisions are kept as they were.
    /// </summary>
    /// <param name="actor">Who asked (a user id, or the operator for the command line); recorded in the audit log.</param>
    public Task<ReconcileSummary> ReconcileAsync(Guid tenantId, string actor, string? requestId, CancellationToken cancellationToken) =>
        ReconcileAsync(tenantId, actor, requestId, progress: null, cancellationToken);

    /// <inheritdoc cref="ReconcileAsync(Guid, string, string?, CancellationToken)"/>
    /// <param name="progress">Told each stage as it starts, and how many decisions are stored as they are.</param>
    public async Task<ReconcileSummary> ReconcileAsync(
        Guid tenantId, string actor, string? requestId, IProgress<ReconcileProgress>? progress, CancellationToken cancellationToken)
    {
        using var span = ProductDiagnostics.StartSpan("reconcile", tenantId);
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var stage = Stage(ReconcileStage.Loading, tenantId, null);
        progress?.Report(new ReconcileProgress(ReconcileStage.Loading, 0, 0));
        var decidedAt = await MatchDecisionStore.BeginRunAsync(unitOfWork, cancellationToken);
        // Reviewers' instructions (re-matches, "not a duplicate") apply; invoices they approved or rejected keep that decision.
        var tenant = await InvoiceEvaluation.PrepareAsync(unitOfWork, await personalDataKeys.DataAsync(cancellationToken), EvaluationScope.AllInvoices, cancellationToken);
        stage = Stage(ReconcileStage.Matching, tenantId, stage);
        progress?.Report(new ReconcileProgress(ReconcileStage.Matching, 0, 0));
        var runId = Guid.NewGuid();
        var invoiceCount = tenant.AppendableCount;
        var byStatus = new Dictionary<InvoiceStatus, int>();
        var storing = false;
        // The engine decides on a worker thread while the decisions made so far are stored: a run holds a few chunks of
        // decisions rather than the whole tenant's, and its time is about the longer of matching and storing, not their sum.
        // The channel's few batches are the distance the engine may run ahead of the database.
        var decided = Channel.CreateBounded<IReadOnlyList<InvoiceDecision>>(
            new BoundedChannelOptions(DecidedBatchesAhead) { SingleReader = true, SingleWriter = true });
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var matching = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    tenant.DecideInBatches(batch => decided.Writer.WriteAsync(batch, abandon.Token).AsTask().GetAwaiter().GetResult());
                    decided.Writer.Complete();
                }
                catch (Exception exception)
                {
                    decided.Writer.Complete(exception);
                    throw;
                }
            },
            abandon.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        async IAsyncEnumerable<IReadOnlyList<InvoiceDecision>> Counted()
        {
            await foreach (var batch in decided.Reader.ReadAllAsync(cancellationToken))
            {
                foreach (var decision in batch)
                {
                    byStatus[decision.Status] = byStatus.GetValueOrDefault(decision.Status) + 1;
                }

                yield return batch;
            }
        }

        try
        {
            await MatchDecisionStore.AppendAsync(
                unitOfWork, runId, decidedAt, "engine", EngineVersion, tenant.Tenant, Counted(),
                stored =>
                {
                    if (!storing)
                    {
                        // Storing starts with the first chunk of decisions; matching goes on beside it.
                        storing = true;
                        stage = Stage(ReconcileStage.Storing, tenantId, stage);
                    }

                    progress?.Report(new ReconcileProgress(ReconcileStage.Storing, stored, invoiceCount));
                },
                cancellationToken);
            await matching;
        }
        finally
        {
            // A failed store leaves the engine waiting to hand over its next batch: it is stopped, and awaited, before the
            // unit of work goes.
            await abandon.CancelAsync();
            await matching.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        var toleranceVersion = tenant.Tenant.Tolerances.Version;
        stage = Stage(ReconcileStage.Committing, tenantId, stage);
        progress?.Report(new ReconcileProgress(ReconcileStage.Committing, invoiceCount, invoiceCount));

        var byStatusName = byStatus.ToDictionary(entry => entry.Key.ToExportName(), entry => entry.Value, StringComparer.Ordinal);
        await AuditLog.AppendAsync(
            unitOfWork, actor, "matching.reconciled", "reconcile_run", runId.ToString(), before: null,
            after: new { invoices = invoiceCount, byStatus = byStatusName, toleranceVersion, engineVersion = EngineVersion },
            requestId, cancellationToken);
        await EventOutbox.EnqueueAsync(
            unitOfWork, new InvoicesReconciled(Guid.NewGuid(), tenantId, time.GetUtcNow(), runId, toleranceVersion, byStatusName), cancellationToken);
        await ExceptionNotifications.EnqueueAsync(unitOfWork, time, "reconcile", [], cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        stage?.Dispose();
        span?.SetTag("invisible.reconcile.invoices", invoiceCount);
        foreach (var (status, count) in byStatusName)
        {
            ProductDiagnostics.InvoicesDecided.Add(count, new("status", status), new("decided_by", "engine"));
        }

        logger.LogInformation(
            "Reconcile run {RunId} for tenant {TenantId}: {InvoiceCount} invoices decided with tolerances v{ToleranceVersion}",
            runId, tenantId, invoiceCount, toleranceVersion);
        return new ReconcileSummary(runId, toleranceVersion, byStatus);
    }

    /// <summary>
    /// Batches of decisions (about a thousand each) the engine may have made and not yet handed to the store: enough that
    /// it never waits for a chunk being prepared, few enough that memory holds a few chunks rather than the tenant.
    /// </summary>
    private const int DecidedBatchesAhead = 4;

    /// <summary>Ends the span of the previous stage (a <see cref="ReconcileStage"/>) and starts the next one's.</summary>
    private static System.Diagnostics.Activity? Stage(ReconcileStage stage, Guid tenantId, System.Diagnostics.Activity? previous)
    {
        previous?.Dispose();
        return ProductDiagnostics.StartSpan(stage switch
        {
            ReconcileStage.Loading => "reconcile.load",
            ReconcileStage.Matching => "reconcile.match",
            ReconcileStage.Storing => "reconcile.store",
            _ => "reconcile.commit",
        }, tenantId);
    }

    /// <summary>A page of the tenant's invoices in import order; <paramref name="status"/> (a status name) narrows it.</summary>
    public async Task<IReadOnlyList<InvoiceListItem>> ListInvoicesAsync(
        Guid tenantId, string? status, InvoicePosition? after, int pageSize, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await InvoiceQueries.ListAsync(unitOfWork, status, after, pageSize, cancellationToken);
    }

    /// <summary>A page of the tenant's invoices narrowed and ordered by <paramref name="search"/>, with the count over all pages.</summary>
    public async Task<(IReadOnlyList<InvoiceListItem> Items, int TotalCount)> SearchInvoicesAsync(
        Guid tenantId, InvoiceSearch search, int offset, int pageSize, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await InvoiceQueries.SearchAsync(unitOfWork, search, offset, pageSize, cancellationToken);
    }

    /// <summary>
    /// A keyset page of the tenant's invoices (<see cref="InvoiceQueries.PageAsync"/>) and, when <paramref name="count"/>,
    /// how many the search finds (else 0), read in one transaction.
    /// </summary>
    public async Task<(IReadOnlyList<InvoiceListItem> Items, bool HasMore, int TotalCount)> PageInvoicesAsync(
        Guid tenantId, InvoiceSearch search, InvoiceKeyset? after, bool count, int pageSize, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var (items, hasMore) = await InvoiceQueries.PageAsync(unitOfWork, search, after, pageSize, cancellationToken);
        var total = !count ? 0
            : after is null && !hasMore ? items.Count
            : await InvoiceQueries.CountAsync(unitOfWork, search, cancellationToken);
        return (items, hasMore, total);
    }

    /// <summary>The dashboard's counters as of now.</summary>
    public async Task<DashboardView> DashboardAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await DashboardQueries.ReadAsync(unitOfWork, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>One invoice of the tenant with its current decision; null when the tenant has no such invoice.</summary>
    public async Task<InvoiceDecisionView?> GetInvoiceAsync(Guid tenantId, Guid invoiceId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await InvoiceQueries.GetAsync(unitOfWork, invoiceId, cancellationToken);
    }

    /// <summary>The current results (each invoice's newest decision) as FORMATS section 3 rows.</summary>
    public async Task<IReadOnlyList<ResultsRow>> LatestResultsAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await MatchDecisionStore.LatestResultsAsync(unitOfWork, cancellationToken);
    }

    /// <summary>
    /// Writes <c>results.csv</c> (FORMATS section 3: header first, RFC 4180) from the newest decisions. Printed invoice
    /// numbers are supplier text, so values a spreadsheet would run as a formula are escaped, as in every download.
    /// </summary>
    /// <returns>The number of rows written after the header.</returns>
    public async Task<int> ExportResultsAsync(Guid tenantId, Stream destination, CancellationToken cancellationToken)
    {
        var rows = await LatestResultsAsync(tenantId, cancellationToken);
        await using var csv = CsvWriter.Create(destination, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true);
        foreach (var column in ResultsExport.Columns)
        {
            csv.WriteField(column);
        }

        csv.EndRecord();
        foreach (var row in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var field in row.Fields)
            {
                csv.WriteField(field);
            }

            csv.EndRecord();
        }

        await csv.FlushAsync(cancellationToken);
        return rows.Count;
    }
}
