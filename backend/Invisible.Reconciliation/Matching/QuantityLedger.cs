using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// Running quantities per PO line: everything received (whatever its date) and everything invoiced so far by
/// non-duplicate invoices in processing order.
/// </summary>
internal sealed class QuantityLedger
{
    private readonly Dictionary<(string PoNumber, int LineNo), decimal> received = [];
    private readonly Dictionary<(string PoNumber, int LineNo), decimal> invoiced = [];

    public void Receive(string poNumber, int lineNo, decimal quantity) =>
        received[(poNumber, lineNo)] = Received(poNumber, lineNo) + quantity;

    /// <summary>Adds an invoiced quantity and returns the new cumulative total for the PO line.</summary>
    public decimal Invoice(string poNumber, int lineNo, decimal quantity)
    {
        var cumulative = Invoiced(poNumber, lineNo) + quantity;
        invoiced[(poNumber, lineNo)] = cumulative;
        return cumulative;
    }

    public decimal Received(string poNumber, int lineNo) => received.GetValueOrDefault((poNumber, lineNo));

    public decimal Invoiced(string poNumber, int lineNo) => invoiced.GetValueOrDefault((poNumber, lineNo));

    /// <summary>Open: some line of the PO still has quantity that has not been invoiced.</summary>
    public bool IsOpen(PurchaseOrder po) => po.Lines.Any(line => Invoiced(po.PoNumber, line.LineNo) < line.Quantity);
}
