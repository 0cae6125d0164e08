using Invisible.Platform.Events;
using Invisible.Server.Imports;

namespace Invisible.Server.Matching;

/// <summary>
/// Re-matching after new evidence: a stored file of receipts, purchase orders or vendors re-evaluates the tenant's decided
/// invoices, and each whose outcome changes (an invoice awaiting receipt whose goods arrived becomes matched, a changed PO
/// clears or raises a variance) gets a new decision by the engine, with no user action. Invoice files wait for a
/// reconcile run. Runs in the event's transaction after its inbox row, so a redelivered event has no second effect.
/// </summary>
public sealed class ReevaluateAfterImport(TimeProvider time, ILogger<ReevaluateAfterImport> logger) : IIntegrationEventHandler<FileImported>
{
    /// <summary>The inbox name of this consumer; stable across releases.</summary>
    public const string Consumer = "matching.reevaluate-after-import";

    private static readonly HashSet<string> EvidenceKinds = new(["receipts", "purchase_orders", "vendors"], StringComparer.Ordinal);

    public async Task HandleAsync(FileImported integrationEvent, EventHandlingContext context, CancellationToken cancellationToken)
    {
        if (!EvidenceKinds.Contains(integrationEvent.Kind))
        {
            return;
        }

        var redecision = await InvoiceRedecision.BeginAsync(context.UnitOfWork, time, cancellationToken);
        var reevaluated = await redecision.ReevaluateAsync("engine", new HashSet<Guid>(), eligible: null, cancellationToken);
        if (reevaluated.Count == 0)
        {
            return;
        }

        await redecision.RecordAsync(
            new RedecisionAudit(
                "engine", "matching.reevaluated", "import", integrationEvent.ImportId.ToString(), Before: null,
                After: new { kind = integrationEvent.Kind },
                RequestId: null),
            cause: "rematch_after_import",
            alsoChanged: [],
            cancellationToken);
        logger.LogInformation(
            "Import {ImportId} ({Kind}) of tenant {TenantId}: {Count} invoice(s) re-decided",
            integrationEvent.ImportId, integrationEvent.Kind, integrationEvent.TenantId, reevaluated.Count);
    }
}
