using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// "If the tolerances were these, which open exceptions would clear and how much would pass?" Both reconciles run on the
/// same snapshot in memory; nothing is stored or changed.
/// </summary>
public static class ToleranceWhatIf
{
    public static WhatIfOutcome Evaluate(TenantSnapshot snapshot, Tolerances current, Tolerances proposed, SimilarityModel? model = null)
    {
        var before = ReconciliationEngine.Reconcile(snapshot, current, model).Invoices;
        var after = ReconciliationEngine.Reconcile(snapshot, proposed, model).Invoices.ToDictionary(decision => decision.InvoiceId, StringComparer.Ordinal);
        var totals = snapshot.Invoices.ToDictionary(invoice => invoice.Id, invoice => invoice.Total, StringComparer.Ordinal);
        var exceptions = before.Where(decision => decision.Status == InvoiceStatus.Exception).ToList();
        var cleared = exceptions.Where(decision => after[decision.InvoiceId].Status == InvoiceStatus.Matched).Select(decision => decision.InvoiceId).ToList();
        var newExceptions = before.Count(decision => decision.Status != InvoiceStatus.Exception && after[decision.InvoiceId].Status == InvoiceStatus.Exception);
        var amountPassing = cleared
            .GroupBy(id => totals[id].Currency, StringComparer.Ordinal)
            .Select(group => new Money(group.Sum(id => totals[id].Amount), group.Key))
            .OrderBy(money => money.Currency, StringComparer.Ordinal)
            .ToList();
        return new WhatIfOutcome(exceptions.Count, cleared, amountPassing, newExceptions);
    }
}

/// <param name="OpenExceptions">Exceptions under the current tolerances.</param>
/// <param name="ClearedInvoiceIds">Exceptions that would become <c>matched</c> under the proposed tolerances.</param>
/// <param name="AmountPassing">Their invoice totals, per currency.</param>
/// <param name="NewExceptions">Invoices that would become exceptions (when tolerances are tightened).</param>
public sealed record WhatIfOutcome(int OpenExceptions, IReadOnlyList<string> ClearedInvoiceIds, IReadOnlyList<Money> AmountPassing, int NewExceptions);
