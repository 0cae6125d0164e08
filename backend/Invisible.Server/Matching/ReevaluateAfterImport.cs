using Invisible.Server.FieldEncryption;
using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using Invisible.Server.Imports;

namespace Invisible.Server.Matching;

/// <summary>
/// Decided on arrival, and re-matching after new evidence, worker side: every stored file (<see cref="FileImported"/>)
/// has the engine decide the tenant as a full reconcile would (every invoice, in processing order: invoice date, then
/// file order), and appends a decision for each invoice that has none yet (new invoices, whatever channel stored them)
/// and for each whose outcome changed (an invoice awaiting receipt whose goods arrived becomes matched, a changed PO
/// clears or raises a variance, a late invoice dated earlier takes PO quantity first). So each invoice's newest
/// decision is always the one <c>reconcile</c> would give, with no user action; <c>reconcile</c> stays as the full
/// re-run that appends a decision for every invoice.
/// Serialised per tenant with reconcile runs and reviewers' actions by the run lock (<see cref="InvoiceRedecision.BeginAsync"/>).
/// Runs in the event's transaction after its inbox row, so a redelivered event has no second effect; the decisions reach
/// web apps live through <c>exceptions.changed</c> / <c>dashboard.changed</c>.
/// Channels that store invoices without <see cref="ImportService"/> (keyed by hand, e-mail) publish a
/// <see cref="FileImported"/> of kind "invoices" in the transaction that stores them.
/// </summary>
public sealed class ReevaluateAfterImport(TimeProvider time, ArrivalSessions sessions, PersonalDataKeys personalDataKeys, ILogger<ReevaluateAfterImport> logger) : IIntegrationEventHandler<FileImported>
{
    /// <summary>The inbox name of this consumer; stable across releases.</summary>
    public const string Consumer = "matching.reevaluate-after-import";

    /// <summary>The outbox cause of the notifications that announce decisions made on an invoice's arrival.</summary>
    public const string ArrivalCause = "decided_on_arrival";

    private static readonly HashSet<string> EvidenceKinds = new(["receipts", "purchase_orders", "vendors"], StringComparer.Ordinal);

    public async Task HandleAsync(FileImported integrationEvent, EventHandlingContext context, CancellationToken cancellationToken)
    {
        var arrival = integrationEvent.Kind == "invoices";
        if (!arrival && !EvidenceKinds.Contains(integrationEvent.Kind))
        {
            return;
        }

        var reevaluated = await DecideAsync(
            context.UnitOfWork, time, await personalDataKeys.DataAsync(cancellationToken), arrival ? "matching.decided_on_arrival" : "matching.reevaluated", integrationEvent.ImportId,
            integrationEvent.Kind, arrival ? ArrivalCause : "rematch_after_import", cancellationToken, sessions);
        if (reevaluated.Count > 0)
        {
            logger.LogInformation(
                "Import {ImportId} ({Kind}) of tenant {TenantId}: {Count} invoice(s) decided",
                integrationEvent.ImportId, integrationEvent.Kind, integrationEvent.TenantId, reevaluated.Count);
        }
    }

    /// <summary>
    /// Decides the tenant's new invoices and re-decides the changed ones in <paramref name="unitOfWork"/> (which the
    /// caller commits), with an audit entry and the live notifications when anything was decided. With
    /// <paramref name="sessions"/>, new invoices are decided by continuing the tenant's kept session when nothing else changed.
    /// </summary>
    public static async Task<IReadOnlyList<ReevaluatedInvoice>> DecideAsync(
        TenantUnitOfWork unitOfWork, TimeProvider time, Identity.Encryption.PersonalData personalData, string auditAction, Guid importId, string kind, string cause, CancellationToken cancellationToken,
        ArrivalSessions? sessions = null)
    {
        var redecision = await InvoiceRedecision.BeginAsync(unitOfWork, time, personalData, cancellationToken);
        var reevaluated = sessions is not null
            ? await redecision.DecideArrivalsAsync(sessions, cancellationToken)
            : await redecision.ReevaluateAsync("engine", new HashSet<Guid>(), eligible: null, cancellationToken, EvaluationScope.AllInvoices);
        if (reevaluated.Count == 0)
        {
            return reevaluated;
        }

        await redecision.RecordAsync(
            new RedecisionAudit("engine", auditAction, "import", importId.ToString(), Before: null, After: new { kind }, RequestId: null),
            cause,
            alsoChanged: [],
            cancellationToken);
        return reevaluated;
    }
}
