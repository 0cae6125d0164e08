namespace Invisible.Server.Matching;

/// <summary>What a reconcile run is doing, in the order it does it.</summary>
public enum ReconcileStage
{
    /// <summary>Reading the tenant's documents, tolerances, reviewers' instructions and similarity model.</summary>
    Loading,

    /// <summary>The engine is deciding every invoice.</summary>
    Matching,

    /// <summary>Decisions are being appended; <see cref="ReconcileProgress.InvoicesStored"/> counts them.</summary>
    Storing,

    /// <summary>The exception queue, audit entry and event are written and the run commits.</summary>
    Committing,
}

/// <summary>
/// Progress of a reconcile run, for a caller that shows it (a large tenant's run takes tens of seconds).
/// <see cref="InvoiceCount"/> is known from <see cref="ReconcileStage.Storing"/> on, 0 before.
/// </summary>
public sealed record ReconcileProgress(ReconcileStage Stage, int InvoicesStored, int InvoiceCount);
