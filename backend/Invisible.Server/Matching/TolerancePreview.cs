using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;

namespace Invisible.Server.Matching;

/// <param name="OpenExceptions">Items in the queue now (open or in review).</param>
/// <param name="WouldClear">Of those, invoices the proposed tolerances would match.</param>
/// <param name="WouldNewlyFail">Invoices passing now (matched or awaiting receipt) that would become exceptions.</param>
/// <param name="AmountWouldPass">The totals of the invoices that would clear, per currency.</param>
public sealed record TolerancePreviewOutcome(int OpenExceptions, int WouldClear, int WouldNewlyFail, IReadOnlyList<Money> AmountWouldPass);

/// <summary>
/// The what-if of a tolerance change against the queue as it is: the engine's decisions under the proposed tolerances
/// compared with the stored current statuses and open exceptions. Pure; nothing is stored.
/// </summary>
public static class TolerancePreview
{
    public static TolerancePreviewOutcome Compare(
        IReadOnlyList<InvoiceDecision> proposed,
        IReadOnlySet<string> openExceptionInvoiceIds,
        IReadOnlyDictionary<string, string> currentStatuses,
        IReadOnlyDictionary<string, Money> totals)
    {
        var cleared = proposed
            .Where(decision => openExceptionInvoiceIds.Contains(decision.InvoiceId) && decision.Status == InvoiceStatus.Matched)
            .Select(decision => totals[decision.InvoiceId])
            .ToList();
        var passingNow = new HashSet<string>([InvoiceStatus.Matched.ToExportName(), InvoiceStatus.AwaitingReceipt.ToExportName()], StringComparer.Ordinal);
        var newlyFailing = proposed.Count(decision =>
            decision.Status == InvoiceStatus.Exception &&
            currentStatuses.TryGetValue(decision.InvoiceId, out var status) && passingNow.Contains(status));
        var amount = cleared
            .GroupBy(total => total.Currency, StringComparer.Ordinal)
            .Select(group => new Money(group.Sum(total => total.Amount), group.Key))
            .OrderBy(money => money.Currency, StringComparer.Ordinal)
            .ToList();
        return new TolerancePreviewOutcome(openExceptionInvoiceIds.Count, cleared.Count, newlyFailing, amount);
    }
}
