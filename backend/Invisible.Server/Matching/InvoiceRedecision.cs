using System.Text.Json;
using System.Text.Json.Nodes;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Server.Exceptions;

namespace Invisible.Server.Matching;

/// <summary>
/// The audit entry of a re-decision. <see cref="After"/> is the caller's own state (a JSON object); the invoices the
/// re-decision changed are added to it as <c>reevaluated</c>, so every entry lists them the same way.
/// </summary>
public sealed record RedecisionAudit(string Actor, string Action, string Entity, string EntityId, object? Before, object After, string? RequestId);

/// <summary>
/// Re-deciding a tenant's decided invoices after something they depend on changed (a reviewer's action, tolerances, imported
/// evidence): the one sequence behind all of them. <see cref="BeginAsync"/> takes the tenant's run lock, the caller makes
/// its change, <see cref="ReevaluateAsync"/> appends the new decisions, and <see cref="RecordAsync"/> writes the audit entry
/// and publishes <see cref="ExceptionsChanged"/> / <see cref="DashboardChanged"/> through the outbox, all in the caller's
/// transaction, which the caller commits.
/// </summary>
public sealed class InvoiceRedecision
{
    private readonly TenantUnitOfWork unitOfWork;
    private readonly TimeProvider time;
    private readonly Identity.Encryption.PersonalData personalData;
    private IReadOnlyList<ReevaluatedInvoice>? reevaluated;

    private InvoiceRedecision(TenantUnitOfWork unitOfWork, TimeProvider time, Identity.Encryption.PersonalData personalData, DateTime decidedAt)
    {
        this.unitOfWork = unitOfWork;
        this.time = time;
        this.personalData = personalData;
        DecidedAt = decidedAt;
    }

    /// <summary>When the new decisions are stamped; the caller's own writes of this run use it too.</summary>
    public DateTime DecidedAt { get; }

    /// <summary>The invoices <see cref="ReevaluateAsync"/> gave a new decision.</summary>
    public IReadOnlyList<ReevaluatedInvoice> Reevaluated =>
        reevaluated ?? throw new InvalidOperationException("Re-evaluate before reading what was re-decided.");

    /// <summary>
    /// Serialises the re-decision with reconcile runs of the tenant (<see cref="MatchDecisionStore.BeginRunAsync"/>); call it
    /// before the change, so the change and the decisions it causes are seen by the next run together.
    /// </summary>
    /// <param name="personalData">Opens the vendors' tax ids for the engine.</param>
    public static async Task<InvoiceRedecision> BeginAsync(
        TenantUnitOfWork unitOfWork, TimeProvider time, Identity.Encryption.PersonalData personalData, CancellationToken cancellationToken) =>
        new(unitOfWork, time, personalData, await MatchDecisionStore.BeginRunAsync(unitOfWork, cancellationToken));

    /// <summary>
    /// Appends new decisions: for each of <paramref name="forced"/> by <paramref name="decidedBy"/> whatever its outcome, and
    /// by the engine for each other decided invoice (among <paramref name="eligible"/>, all when null) whose outcome changed.
    /// </summary>
    /// <param name="scope">What the engine sees; <see cref="EvaluationScope.AllInvoices"/> also decides pending invoices.</param>
    public async Task<IReadOnlyList<ReevaluatedInvoice>> ReevaluateAsync(
        string decidedBy, IReadOnlySet<Guid> forced, Func<Guid, bool>? eligible, CancellationToken cancellationToken,
        EvaluationScope scope = EvaluationScope.DecidedInvoices)
    {
        reevaluated = await InvoiceEvaluation.ReevaluateAsync(unitOfWork, personalData, DecidedAt, decidedBy, forced, eligible, cancellationToken, scope);
        return reevaluated;
    }

    /// <summary>
    /// Decides the tenant's pending invoices as a full reconcile would, and re-decides the decided ones whose outcome
    /// changed, continuing the tenant's kept session when nothing but new invoices changed (<see cref="ArrivalSessions"/>).
    /// </summary>
    public async Task<IReadOnlyList<ReevaluatedInvoice>> DecideArrivalsAsync(ArrivalSessions sessions, CancellationToken cancellationToken)
    {
        reevaluated = await sessions.DecideAsync(unitOfWork, personalData, DecidedAt, cancellationToken);
        return reevaluated;
    }

    /// <summary>
    /// Writes <paramref name="audit"/> with the re-decided invoices and tells web apps what changed: <paramref name="cause"/>
    /// and the invoices named in <paramref name="alsoChanged"/> (whose queue entry the caller changed) and the re-decided ones.
    /// </summary>
    public async Task RecordAsync(RedecisionAudit audit, string cause, IReadOnlyList<Guid> alsoChanged, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(audit);
        await AuditLog.AppendAsync(
            unitOfWork, audit.Actor, audit.Action, audit.Entity, audit.EntityId, audit.Before, WithReevaluated(audit.After), audit.RequestId,
            cancellationToken);
        await ExceptionNotifications.EnqueueAsync(
            unitOfWork, time, cause, alsoChanged.Concat(Reevaluated.Select(invoice => invoice.InvoiceId)).Distinct().ToList(), cancellationToken);
    }

    // Serialised as the audit log serialises (web defaults), so the entry reads exactly as when callers wrote the list themselves.
    private JsonObject WithReevaluated(object after)
    {
        var entry = JsonSerializer.SerializeToNode(after, after.GetType(), JsonSerializerOptions.Web)?.AsObject()
            ?? throw new ArgumentException("The audit entry's after state must be an object.", nameof(after));
        entry["reevaluated"] = JsonSerializer.SerializeToNode(
            Reevaluated.Select(invoice => new { invoice.InvoiceId, invoice.PreviousStatus, invoice.Status }).ToList(), JsonSerializerOptions.Web);
        return entry;
    }
}
