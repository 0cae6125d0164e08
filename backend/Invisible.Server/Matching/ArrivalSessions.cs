using System.Collections.Concurrent;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using LinqToDB;
using LinqToDB.Data;

namespace Invisible.Server.Matching;

/// <summary>
/// Decided on arrival, incrementally. After deciding a tenant, the worker keeps the engine's session (its ledger, open POs,
/// duplicate register) with a stamp of everything it was built from. When invoices next arrive and the stamp is unchanged
/// (no evidence, tolerances, reviewers' instructions, model or decision changed meanwhile, in this process or any other)
/// and the new invoices all come after the session's last one in processing order, the session goes on to decide only
/// them: exactly what a full reconcile would decide, since the engine decides each invoice against those before it and
/// earlier decisions do not depend on later invoices. Otherwise the tenant is re-evaluated in full
/// (<see cref="InvoiceEvaluation.ReevaluateAsync"/>) and that session is kept instead.
/// A session is taken out while it is used, so two arrivals of one tenant never share it (the run lock serialises them
/// anyway); a transaction that rolls back leaves a stamp that no longer matches the database, so its session is not reused.
/// </summary>
public sealed class ArrivalSessions(ILogger<ArrivalSessions> logger)
{
    /// <summary>A session holds a tenant's documents in memory; the tenants that received invoices most recently keep theirs.</summary>
    private const int KeptTenants = 32;

    private readonly ConcurrentDictionary<Guid, KeptSession> sessions = new();

    /// <summary>How many arrivals were decided by continuing a kept session (for tests and the benchmark).</summary>
    public long Continued => Interlocked.Read(ref continued);

    /// <summary>How many arrivals were decided by re-evaluating the whole tenant.</summary>
    public long Reevaluated => Interlocked.Read(ref reevaluated);

    private long continued;
    private long reevaluated;

    /// <summary>
    /// Decides the tenant's pending invoices (and, on the full path, re-decides the changed ones), appending decisions at
    /// <paramref name="decidedAt"/> in <paramref name="unitOfWork"/>; call under the run lock.
    /// </summary>
    public async Task<IReadOnlyList<ReevaluatedInvoice>> DecideAsync(
        TenantUnitOfWork unitOfWork, Identity.Encryption.PersonalData personalData, DateTime decidedAt, CancellationToken cancellationToken)
    {
        var before = await StampAsync(unitOfWork, cancellationToken);
        if (sessions.TryRemove(unitOfWork.TenantId, out var kept) &&
            await TryContinueAsync(unitOfWork, kept, before, decidedAt, cancellationToken) is { } decided)
        {
            Interlocked.Increment(ref continued);
            await KeepAsync(unitOfWork, kept, before, cancellationToken);
            return decided;
        }

        Interlocked.Increment(ref reevaluated);
        (PreparedTenant Prepared, MatchingSession Session)? full = null;
        var reevaluatedInvoices = await InvoiceEvaluation.ReevaluateAsync(
            unitOfWork, personalData, decidedAt, "engine", new HashSet<Guid>(), eligible: null, cancellationToken, EvaluationScope.AllInvoices,
            (prepared, session) => full = (prepared, session));
        var (tenant, fullSession) = (full!.Value.Prepared.Tenant, full.Value.Session);
        var last = full.Value.Prepared.Snapshot.Invoices.Count == 0
            ? null
            : full.Value.Prepared.Snapshot.Invoices.Aggregate((latest, invoice) => ReconciliationEngine.ComesAfter(invoice, latest) ? invoice : latest);
        await KeepAsync(unitOfWork, new KeptSession(fullSession, tenant, last, stamp: ""), before, cancellationToken);
        return reevaluatedInvoices;
    }

    /// <summary>Forgets a tenant's session (its documents changed in a way the stamp cannot see, e.g. in tests).</summary>
    public void Forget(Guid tenantId) => sessions.TryRemove(tenantId, out _);

    private async Task<IReadOnlyList<ReevaluatedInvoice>?> TryContinueAsync(
        TenantUnitOfWork unitOfWork, KeptSession kept, TenantStamp now, DateTime decidedAt, CancellationToken cancellationToken)
    {
        if (now.ToString() != kept.Stamp)
        {
            logger.LogDebug("Tenant {TenantId}: its documents or decisions changed since its session was kept; deciding it in full", unitOfWork.TenantId);
            return null;
        }

        var (pending, lineKeys) = await TenantSnapshotStore.PendingInvoicesAsync(unitOfWork, cancellationToken);
        var arrived = ReconciliationEngine.InProcessingOrder(pending).ToList();
        if (arrived.Count > 0 && kept.Last is { } last && !ReconciliationEngine.ComesAfter(arrived[0], last))
        {
            logger.LogDebug("Tenant {TenantId}: an arrived invoice comes before decided ones in processing order; deciding it in full", unitOfWork.TenantId);
            return null;
        }

        kept.Tenant.Keys.AddInvoiceLines(lineKeys);
        var decisions = arrived.ConvertAll(kept.Session.Match);
        if (arrived.Count > 0)
        {
            kept.Last = arrived[^1];
        }

        var result = new ReconciliationResult(
            decisions.OrderBy(decision => decision.Origin).ThenBy(decision => decision.InvoiceId, StringComparer.Ordinal).ToList(),
            kept.Tenant.Tolerances.Version,
            kept.Session.SimilarityModel.Version);
        if (result.Invoices.Count > 0)
        {
            await MatchDecisionStore.AppendAsync(
                unitOfWork, Guid.NewGuid(), decidedAt, "engine", InvoiceMatching.EngineVersion, kept.Tenant, result, cancellationToken);
            foreach (var decision in result.Invoices)
            {
                Invisible.Data.Diagnostics.ProductDiagnostics.InvoicesDecided.Add(
                    1, new("status", decision.Status.ToExportName()), new("decided_by", "engine"));
            }
        }

        return result.Invoices.Select(decision => new ReevaluatedInvoice(Guid.Parse(decision.InvoiceId), "pending", decision.Status.ToExportName())).ToList();
    }

    /// <summary>
    /// Keeps the session with the stamp of the tenant as this transaction leaves it (its own writes included), unless
    /// evidence was committed by others since <paramref name="before"/> (read committed: the session may have been built
    /// from a view without it, while the stamp would include it).
    /// </summary>
    private async Task KeepAsync(TenantUnitOfWork unitOfWork, KeptSession kept, TenantStamp before, CancellationToken cancellationToken)
    {
        var after = await StampAsync(unitOfWork, cancellationToken);
        if (after.Evidence != before.Evidence)
        {
            return;
        }

        kept.Stamp = after.ToString();
        if (sessions.Count >= KeptTenants && !sessions.ContainsKey(unitOfWork.TenantId))
        {
            // Rarely reached: which tenant loses its session matters less than bounding the memory they hold.
            foreach (var tenantId in sessions.Keys.Take(sessions.Count - KeptTenants + 1))
            {
                sessions.TryRemove(tenantId, out _);
            }
        }

        sessions[unitOfWork.TenantId] = kept;
    }

    /// <summary>
    /// Everything the engine's decisions rest on, as of now: each table's row count and the sum of its rows' inserting
    /// transaction ids (xmin), which any insert, update or delete changes. Evidence is what deciding never writes; the rest
    /// (decisions, decided invoices, the similarity model) only changes under the run lock. Invoices count only once decided,
    /// so invoices that merely arrived leave it unchanged. Raw SQL: xmin is a system column linq2db cannot name.
    /// </summary>
    private static async Task<TenantStamp> StampAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var parts = await unitOfWork.Db.QueryToListAsync<TenantStamp>(
            $"""
            select concat_ws('|', {Of("vendors")}, {Of("vendor_aliases")}, {Of("purchase_orders")}, {Of("purchase_order_lines")},
                   {Of("receipts")}, {Of("receipt_lines")}, {Of("tolerances")}, {Of("match_overrides")}) as "Evidence",
                   concat_ws('|', {Of("similarity_models")}, {Of("match_decisions")}, {Of("invoices", "status <> 'pending'")}) as "Decided"
            """,
            cancellationToken);
        return parts[0];
    }

    private sealed class TenantStamp
    {
        public string Evidence { get; set; } = "";

        public string Decided { get; set; } = "";

        public override string ToString() => $"{Evidence}#{Decided}";
    }

    private static string Of(string table, string where = "true") =>
        $"(select count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) from {table} where {where})";

    private sealed class KeptSession(MatchingSession session, LoadedTenant tenant, Invoice? last, string stamp)
    {
        public MatchingSession Session { get; } = session;

        public LoadedTenant Tenant { get; } = tenant;

        /// <summary>The invoice the session decided last (processing order); new ones must come after it.</summary>
        public Invoice? Last { get; set; } = last;

        public string Stamp { get; set; } = stamp;
    }
}
