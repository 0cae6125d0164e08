using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;

namespace Invisible.Reconciliation.Matching;

/// <summary>Reconciles a tenant's documents per FORMATS section 2. Pure: the same snapshot gives the same result.</summary>
public static class ReconciliationEngine
{
    public static ReconciliationResult Reconcile(TenantSnapshot snapshot, Tolerances tolerances, SimilarityModel? model = null) =>
        StartSession(snapshot, tolerances, model).Result;

    /// <summary>
    /// Matches every invoice of the snapshot in processing order and returns the session, ready to match newly imported
    /// invoices one at a time against the same ledger.
    /// </summary>
    public static MatchingSession StartSession(TenantSnapshot snapshot, Tolerances tolerances, SimilarityModel? model = null)
    {
        var session = new MatchingSession(snapshot, tolerances, model);
        session.ResolveVendorsOf(snapshot.Invoices);
        foreach (var invoice in InProcessingOrder(snapshot.Invoices))
        {
            session.Match(invoice);
        }

        return session;
    }

    /// <summary>Invoice date, then file order (FORMATS section 2).</summary>
    public static IEnumerable<Invoice> InProcessingOrder(IEnumerable<Invoice> invoices) =>
        invoices.OrderBy(invoice => invoice.InvoiceDate).ThenBy(invoice => invoice.Origin).ThenBy(invoice => invoice.Id, StringComparer.Ordinal);
}
