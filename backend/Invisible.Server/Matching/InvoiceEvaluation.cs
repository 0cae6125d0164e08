using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;

namespace Invisible.Server.Matching;

/// <summary>Which invoices an evaluation considers.</summary>
public enum EvaluationScope
{
    /// <summary>Every invoice, pending ones included (a reconcile run).</summary>
    AllInvoices,

    /// <summary>
    /// Invoices that already have a decision (re-matching after a reviewer's action or a tolerance change); pending ones
    /// are left to their arrival (<see cref="ReevaluateAfterImport"/>) or a reconcile.
    /// </summary>
    DecidedInvoices,
}

/// <summary>An invoice that got a new decision from a re-evaluation.</summary>
public sealed record ReevaluatedInvoice(Guid InvoiceId, string PreviousStatus, string Status);

/// <summary>
/// A tenant ready for the engine: current tolerances (absolute limits, withdrawn overrides), reviewers' instructions applied
/// (re-matches, "not a duplicate"), rejected invoices left out (they are not payable, so they consume no PO quantity).
/// </summary>
public sealed class PreparedTenant
{
    internal PreparedTenant(LoadedTenant tenant, TenantSnapshot snapshot, IReadOnlyDictionary<Guid, string> statuses, MatchOverrides overrides)
    {
        Tenant = tenant;
        Snapshot = snapshot;
        Statuses = statuses;
        Overrides = overrides;
    }

    /// <summary>With the current tolerances as the engine applies them; its tolerance ids are what decisions reference.</summary>
    public LoadedTenant Tenant { get; }

    /// <summary>What the engine is given (instructions applied, rejected and out-of-scope invoices left out).</summary>
    public TenantSnapshot Snapshot { get; }

    /// <summary>
    /// The stored status of the invoices the scope needs to know: every decided invoice for
    /// <see cref="EvaluationScope.DecidedInvoices"/>, only reviewers' final ones (approved, rejected) otherwise.
    /// </summary>
    public IReadOnlyDictionary<Guid, string> Statuses { get; }

    public MatchOverrides Overrides { get; }

    /// <summary>A reviewer approved or rejected it: engine decisions are not appended for it any more.</summary>
    public bool IsFinal(Guid invoiceId) => Statuses.TryGetValue(invoiceId, out var status) && InvoiceEvaluation.IsFinal(status);

    /// <summary>Runs the engine (pure) and labels re-matched decisions as the reviewer's choice.</summary>
    public ReconciliationResult Decide(Tolerances? tolerances = null) =>
        Labelled(ReconciliationEngine.Reconcile(Snapshot, tolerances ?? Tenant.Tolerances));

    /// <summary>As <see cref="Decide"/>, keeping the session, which can go on to decide invoices that arrive later.</summary>
    public (ReconciliationResult Result, MatchingSession Session) DecideInSession()
    {
        var session = ReconciliationEngine.StartSession(Snapshot, Tenant.Tolerances);
        return (Labelled(session.Result), session);
    }

    /// <summary>
    /// As <see cref="Decide"/> followed by <see cref="Appendable"/>, the decisions handed to <paramref name="appendable"/>
    /// batch by batch in processing order as the engine makes them (<see cref="ReconciliationEngine.Reconcile(TenantSnapshot, Tolerances, Action{IReadOnlyList{InvoiceDecision}}, Invisible.Reconciliation.Similarity.SimilarityModel?)"/>),
    /// none kept here. Blocks the calling thread until every invoice is decided.
    /// </summary>
    public void DecideInBatches(Action<IReadOnlyList<InvoiceDecision>> appendable) =>
        ReconciliationEngine.Reconcile(Snapshot, Tenant.Tolerances, decided =>
        {
            var kept = new List<InvoiceDecision>(decided.Count);
            foreach (var decision in decided)
            {
                if (!IsFinal(Guid.Parse(decision.InvoiceId)))
                {
                    kept.Add(Labelled(decision));
                }
            }

            appendable(kept);
        });

    /// <summary>How many decisions <see cref="DecideInBatches"/> hands over: every invoice given to the engine but those a reviewer approved.</summary>
    public int AppendableCount => Snapshot.Invoices.Count(invoice => !IsFinal(Guid.Parse(invoice.Id)));

    private ReconciliationResult Labelled(ReconciliationResult result) =>
        Overrides.Rematches.Count == 0 ? result : result with { Invoices = result.Invoices.Select(Labelled).ToList() };

    /// <summary>A re-matched decision is the reviewer's choice, and says so.</summary>
    private InvoiceDecision Labelled(InvoiceDecision decision) =>
        Overrides.Rematches.Count > 0 && Overrides.Rematches.TryGetValue(Guid.Parse(decision.InvoiceId), out var rematch) && decision.Po.PoNumber == rematch.PoNumber
            ? decision with
            {
                Vendor = decision.Vendor with { Explanation = $"The vendor of {rematch.PoNumber}, the PO a reviewer chose." },
                Po = decision.Po with { Explanation = $"PO {rematch.PoNumber} chosen by a reviewer: {rematch.Reason}" },
            }
            : decision;

    /// <summary>The decisions of <paramref name="result"/> that may be appended: not for invoices a reviewer approved or rejected.</summary>
    public ReconciliationResult Appendable(ReconciliationResult result, Func<InvoiceDecision, bool>? also = null) =>
        result with { Invoices = result.Invoices.Where(decision => !IsFinal(Guid.Parse(decision.InvoiceId)) && (also?.Invoke(decision) ?? true)).ToList() };
}

/// <summary>
/// Evaluates a tenant's invoices with reviewers' instructions and appends new decisions (never rewrites one): the path
/// behind reconcile runs, reviewers' actions, tolerance changes and re-matching after imported receipts or POs.
/// </summary>
public static class InvoiceEvaluation
{
    public const string Approved = "approved";
    public const string Rejected = "rejected";

    public static bool IsFinal(string status) => status is Approved or Rejected;

    /// <param name="personalData">Opens the vendors' tax ids and e-mail addresses for the engine.</param>
    public static async Task<PreparedTenant> PrepareAsync(TenantUnitOfWork unitOfWork, Identity.Encryption.PersonalData personalData, EvaluationScope scope, CancellationToken cancellationToken)
    {
        var loaded = await TenantSnapshotStore.LoadAsync(unitOfWork, personalData, cancellationToken);
        loaded = ToleranceStore.WithCurrent(loaded, await ToleranceStore.CurrentAsync(unitOfWork, cancellationToken));
        var overrides = await MatchOverrideStore.LoadAsync(unitOfWork, cancellationToken);
        var invoiceRows = unitOfWork.Db.GetTable<InvoiceTableRow>();
        var statuses = await (scope == EvaluationScope.AllInvoices
                ? invoiceRows.Where(invoice => invoice.Status == "approved" || invoice.Status == "rejected")
                : invoiceRows.Where(invoice => invoice.Status != "pending"))
            .ToDictionaryAsync(invoice => invoice.Id, invoice => invoice.Status, cancellationToken);

        var purchaseOrders = loaded.Snapshot.PurchaseOrders.ToDictionary(po => po.PoNumber, StringComparer.Ordinal);
        var vendors = loaded.Snapshot.Vendors.ToDictionary(vendor => vendor.Code, StringComparer.Ordinal);
        var invoices = loaded.Snapshot.Invoices
            .Where(invoice =>
            {
                var known = statuses.TryGetValue(Guid.Parse(invoice.Id), out var status);
                return status != Rejected && (scope == EvaluationScope.AllInvoices || known);
            })
            .Select(invoice => overrides.Rematches.TryGetValue(Guid.Parse(invoice.Id), out var rematch)
                ? ApplyRematch(invoice, rematch, purchaseOrders, vendors)
                : invoice)
            .ToList();
        var snapshot = loaded.Snapshot with
        {
            Invoices = invoices,
            ConfirmedNotDuplicateInvoiceIds = overrides.NotDuplicates.Select(id => id.ToString()).ToHashSet(StringComparer.Ordinal),
        };
        return new PreparedTenant(loaded, snapshot, statuses, overrides);
    }

    /// <summary>
    /// Re-evaluates the tenant's decided invoices and appends a decision for each whose outcome changed (status, vendor,
    /// PO, duplicate, line outcomes) among <paramref name="eligible"/>, and for each of <paramref name="forced"/> whatever
    /// its outcome. Forced invoices are decided by <paramref name="decidedBy"/> (the reviewer who acted), the rest by the engine.
    /// Call <see cref="MatchDecisionStore.BeginRunAsync"/> first; <paramref name="decidedAt"/> is its result. With
    /// <see cref="EvaluationScope.AllInvoices"/> the engine sees every invoice, as a reconcile does, and pending invoices
    /// (no decision yet) count as changed: each invoice's newest decision is then the one a full reconcile would give.
    /// <paramref name="decidedIn"/>, when given, receives the prepared tenant and the engine's session that decided it.
    /// </summary>
    public static async Task<IReadOnlyList<ReevaluatedInvoice>> ReevaluateAsync(
        TenantUnitOfWork unitOfWork,
        Identity.Encryption.PersonalData personalData,
        DateTime decidedAt,
        string decidedBy,
        IReadOnlySet<Guid> forced,
        Func<Guid, bool>? eligible,
        CancellationToken cancellationToken,
        EvaluationScope scope = EvaluationScope.DecidedInvoices,
        Action<PreparedTenant, MatchingSession>? decidedIn = null)
    {
        var prepared = await PrepareAsync(unitOfWork, personalData, scope, cancellationToken);
        ReconciliationResult result;
        if (decidedIn is null)
        {
            result = prepared.Decide();
        }
        else
        {
            (result, var session) = prepared.DecideInSession();
            decidedIn(prepared, session);
        }

        var current = await CurrentFingerprintsAsync(unitOfWork, cancellationToken);
        bool Changed(InvoiceDecision decision) =>
            !current.TryGetValue(Guid.Parse(decision.InvoiceId), out var stored) || stored.Fingerprint != Fingerprint(decision);

        var byReviewer = prepared.Appendable(result, decision => forced.Contains(Guid.Parse(decision.InvoiceId)));
        var byEngine = prepared.Appendable(result, decision =>
        {
            var invoiceId = Guid.Parse(decision.InvoiceId);
            return !forced.Contains(invoiceId) && (eligible?.Invoke(invoiceId) ?? true) && Changed(decision);
        });
        foreach (var (decisions, by) in new[] { (byReviewer, decidedBy), (byEngine, "engine") })
        {
            if (decisions.Invoices.Count > 0)
            {
                await MatchDecisionStore.AppendAsync(
                    unitOfWork, Guid.NewGuid(), decidedAt, by, InvoiceMatching.EngineVersion, prepared.Tenant, decisions, cancellationToken);
                foreach (var decision in decisions.Invoices)
                {
                    Invisible.Data.Diagnostics.ProductDiagnostics.InvoicesDecided.Add(
                        1, new("status", decision.Status.ToExportName()), new("decided_by", by == "engine" ? "engine" : "reviewer"));
                }
            }
        }

        return byReviewer.Invoices.Concat(byEngine.Invoices)
            .Select(decision =>
            {
                var invoiceId = Guid.Parse(decision.InvoiceId);
                return new ReevaluatedInvoice(invoiceId, current.TryGetValue(invoiceId, out var stored) ? stored.Status : "pending", decision.Status.ToExportName());
            })
            .ToList();
    }

    /// <summary>What makes two decisions the same outcome; explanations and evidence figures may differ.</summary>
    internal static string Fingerprint(InvoiceDecision decision) => string.Join('|',
        decision.Status.ToExportName(),
        decision.VendorCode ?? "",
        decision.Po.PoNumber ?? "",
        decision.Po.PoVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
        decision.DuplicateOfInvoiceId ?? "",
        string.Join(',', decision.Lines.OrderBy(line => line.SourceLine).Select(line =>
            FormattableString.Invariant($"{line.SourceLine}:{line.Status.ToExportName()}:{line.PoLineNo}"))));

    private static async Task<Dictionary<Guid, (string Status, string Fingerprint)>> CurrentFingerprintsAsync(
        TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        // SQL: the latest decision per invoice is a window query (MatchDecisionStore.LatestDecisionsSql).
        (await unitOfWork.Db.QueryToListAsync(
            reader => (InvoiceId: reader.GetGuid(0), Status: reader.GetString(1), Fingerprint: reader.GetString(2)),
            $"""
            {MatchDecisionStore.LatestDecisionsSql}
            select d.invoice_id, d.invoice_status,
                   format('%s|%s|%s|%s|%s|%s', d.invoice_status, v.vendor_code, p.po_number, p.version, d.duplicate_of, lines.outcome)
            from latest d
            left join vendors v on v.id = d.vendor_id
            left join purchase_orders p on p.id = d.purchase_order_id
            left join lateral (
                select string_agg(il.source_line || ':' || ld.line_status || ':' || coalesce(pl.line_no::text, ''), ',' order by il.source_line) as outcome
                from line_decisions ld
                join invoice_lines il on il.id = ld.invoice_line_id
                left join purchase_order_lines pl on pl.id = ld.purchase_order_line_id
                where ld.match_decision_id = d.id
            ) lines on true
            """,
            cancellationToken))
        .ToDictionary(row => row.InvoiceId, row => (row.Status, row.Fingerprint));

    /// <summary>
    /// The invoice as the engine should see it after a reviewer chose its PO: the PO's number as the reference, the PO's
    /// vendor as the printed identity, and each chosen line pair given the PO line's SKU and description so they pair.
    /// A PO that no longer exists leaves the invoice as printed.
    /// </summary>
    private static Invoice ApplyRematch(
        Invoice invoice, RematchOverride rematch, Dictionary<string, PurchaseOrder> purchaseOrders, Dictionary<string, Vendor> vendors)
    {
        if (!purchaseOrders.TryGetValue(rematch.PoNumber, out var po) || !vendors.TryGetValue(po.VendorCode, out var vendor))
        {
            return invoice;
        }

        var lines = invoice.Lines
            .Select(line => rematch.Lines.FirstOrDefault(pairing => pairing.InvoiceLineNo == line.LineNo) is { } pairing &&
                            po.Lines.FirstOrDefault(poLine => poLine.LineNo == pairing.PoLineNo) is { } poLine
                ? line with { Sku = poLine.Sku, Description = poLine.Description }
                : line)
            .ToList();
        return invoice with { PrintedPoReference = po.PoNumber, PrintedVendorName = vendor.Name, PrintedTaxId = vendor.TaxId, Lines = lines };
    }
}
