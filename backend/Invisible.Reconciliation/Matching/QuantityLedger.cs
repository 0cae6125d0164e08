using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// Running quantities per PO line: everything received (whatever its date) and everything invoiced so far by
/// non-duplicate invoices in processing order. Each PO line's figures live in one <see cref="LineTally"/> that the
/// indexed PO holds directly, so the hot path reads and books quantities without hashing PO numbers.
/// </summary>
internal sealed class QuantityLedger
{
    private readonly Dictionary<(string PoNumber, int LineNo), LineTally> tallies = [];

    /// <summary>The one tally of a PO line (created empty on first use): every reader and writer shares it.</summary>
    public LineTally Tally(string poNumber, int lineNo)
    {
        if (!tallies.TryGetValue((poNumber, lineNo), out var tally))
        {
            tally = new LineTally();
            tallies[(poNumber, lineNo)] = tally;
        }

        return tally;
    }

    public void Receive(string poNumber, int lineNo, decimal quantity) => Tally(poNumber, lineNo).Received += quantity;
}

/// <summary>Received and invoiced quantities of one PO line.</summary>
internal sealed class LineTally
{
    public decimal Received { get; set; }

    public decimal Invoiced { get; set; }

    /// <summary>Adds an invoiced quantity and returns the new cumulative total for the PO line.</summary>
    public decimal Invoice(decimal quantity) => Invoiced += quantity;
}
