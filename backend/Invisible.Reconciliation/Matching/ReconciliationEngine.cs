using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;

namespace Invisible.Reconciliation.Matching;

/// <summary>Reconciles a tenant's documents per FORMATS section 2. Pure: the same snapshot gives the same result.</summary>
public static class ReconciliationEngine
{
    public static ReconciliationResult Reconcile(TenantSnapshot snapshot, Tolerances tolerances, SimilarityModel? model = null) =>
        StartSession(snapshot, tolerances, model).Result;

    /// <summary>
    /// The same decisions as <see cref="Reconcile(TenantSnapshot, Tolerances, SimilarityModel?)"/>, handed to
    /// <paramref name="decided"/> batch by batch in processing order (not results order) as they are made, none kept: for a
    /// caller that stores a large tenant's decisions while the next ones are being decided. A batch is handed over on a
    /// worker thread, one at a time; deciding waits while <paramref name="decided"/> has not returned.
    /// </summary>
    public static void Reconcile(TenantSnapshot snapshot, Tolerances tolerances, Action<IReadOnlyList<InvoiceDecision>> decided, SimilarityModel? model = null)
    {
        var session = new MatchingSession(snapshot, tolerances, model);
        session.MatchAll(Ordered(snapshot.Invoices), decided);
    }

    /// <summary>
    /// Matches every invoice of the snapshot in processing order and returns the session, ready to match newly imported
    /// invoices one at a time against the same ledger.
    /// </summary>
    public static MatchingSession StartSession(TenantSnapshot snapshot, Tolerances tolerances, SimilarityModel? model = null)
    {
        var session = new MatchingSession(snapshot, tolerances, model);
        session.MatchAll(Ordered(snapshot.Invoices));
        return session;
    }

    /// <summary>Invoice date, then file order (FORMATS section 2); the invoice id, then the given order, decide what is left.</summary>
    public static IEnumerable<Invoice> InProcessingOrder(IEnumerable<Invoice> invoices) => Ordered(invoices);

    /// <summary>
    /// Whether <paramref name="later"/> is processed after <paramref name="earlier"/> (<see cref="InProcessingOrder"/>):
    /// only then may a session that decided <paramref name="earlier"/> last go on to decide <paramref name="later"/>.
    /// </summary>
    public static bool ComesAfter(Invoice later, Invoice earlier) =>
        new ProcessingKey(later.InvoiceDate, later.Origin, later.Id, 0).CompareTo(new ProcessingKey(earlier.InvoiceDate, earlier.Origin, earlier.Id, 0)) > 0;

    private static Invoice[] Ordered(IEnumerable<Invoice> invoices)
    {
        // One array sort on the keys instead of LINQ's three-key ordering: the same order (the position breaks full ties,
        // as LINQ's stable sort does), without a key selector call per comparison.
        var ordered = invoices.ToArray();
        var keys = new ProcessingKey[ordered.Length];
        for (var i = 0; i < ordered.Length; i++)
        {
            keys[i] = new ProcessingKey(ordered[i].InvoiceDate, ordered[i].Origin, ordered[i].Id, i);
        }

        Array.Sort(keys, ordered);
        return ordered;
    }

    private readonly record struct ProcessingKey(DateOnly Date, ImportOrigin Origin, string Id, int Position) : IComparable<ProcessingKey>
    {
        public int CompareTo(ProcessingKey other)
        {
            var order = Date.CompareTo(other.Date);
            if (order == 0)
            {
                order = Origin.CompareTo(other.Origin);
            }

            if (order == 0)
            {
                order = string.CompareOrdinal(Id, other.Id);
            }

            return order != 0 ? order : Position.CompareTo(other.Position);
        }
    }
}
