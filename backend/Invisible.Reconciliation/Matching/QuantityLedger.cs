namespace Invisible.Reconciliation.Matching;

/// <summary>
/// Running quantities per PO line: everything received (whatever its date) and everything invoiced so far by
/// non-duplicate invoices in processing order. Each PO line has one slot, numbered in the order first asked for, and the
/// quantities are two arrays indexed by slot: the lines of a PO sit side by side, and the indexed PO holds its slots,
/// so the hot path reads and books quantities without hashing PO numbers or following a reference per line.
/// </summary>
internal sealed class QuantityLedger
{
    private readonly Dictionary<(string PoNumber, int LineNo), int> slots;
    private decimal[] received;
    private decimal[] invoiced;

    /// <summary>How many indexed PO lines share each slot (a PO number and line number given twice share one).</summary>
    private int[] lineCounts;

    /// <param name="expectedLines">How many PO lines there will be, to size the ledger once.</param>
    public QuantityLedger(int expectedLines = 0)
    {
        slots = new Dictionary<(string PoNumber, int LineNo), int>(expectedLines);
        received = new decimal[Math.Max(expectedLines, 4)];
        invoiced = new decimal[received.Length];
        lineCounts = new int[received.Length];
    }

    /// <summary>The slot of an indexed PO's line (created empty on first use): every reader and writer of it shares it.</summary>
    public int LineSlot(string poNumber, int lineNo)
    {
        var slot = Slot(poNumber, lineNo);
        lineCounts[slot]++;
        return slot;
    }

    /// <summary>Whether exactly one indexed PO line has this slot, so that only its invoicing changes the quantities.</summary>
    public bool IsOwnSlot(int slot) => lineCounts[slot] == 1;

    public void Receive(string poNumber, int lineNo, decimal quantity)
    {
        // The slot first: finding it may grow the arrays, and `received[Slot(..)]` would index the array from before that.
        var slot = Slot(poNumber, lineNo);
        received[slot] += quantity;
    }

    private int Slot(string poNumber, int lineNo)
    {
        if (!slots.TryGetValue((poNumber, lineNo), out var slot))
        {
            slot = slots.Count;
            if (slot == received.Length)
            {
                Array.Resize(ref received, received.Length * 2);
                Array.Resize(ref invoiced, received.Length);
                Array.Resize(ref lineCounts, received.Length);
            }

            slots[(poNumber, lineNo)] = slot;
        }

        return slot;
    }

    public decimal Received(int slot) => received[slot];

    public decimal Invoiced(int slot) => invoiced[slot];

    /// <summary>Adds an invoiced quantity and returns the new cumulative total for the PO line.</summary>
    public decimal Invoice(int slot, decimal quantity) => invoiced[slot] += quantity;
}
