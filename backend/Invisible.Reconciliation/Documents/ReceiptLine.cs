namespace Invisible.Reconciliation.Documents;

/// <summary>One goods-receipt row: a quantity of one PO line received. Several may add up for the same PO line.</summary>
public sealed record ReceiptLine(
    string ReceiptNumber,
    string PoNumber,
    int PoLineNo,
    DateOnly ReceivedDate,
    decimal QuantityReceived);
