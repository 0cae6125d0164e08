using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Validation;

/// <summary>Receipts: positive quantities, unique receipt + PO line, and PO lines that exist.</summary>
public sealed class ReceiptRules(ErrorCollector errors) : IRowRules<ReceiptRow>
{
    private readonly NaturalKeySet<(UInt128 ReceiptAndPo, int PoLineNo)> _keys = new();

    public void Check(ReceiptRow row)
    {
        var line = row.SourceLine;
        RowRules.CheckLineNumber(errors, line, "po_line_no", row.PoLineNo);
        RowRules.CheckPositive(errors, line, "quantity_received", row.QuantityReceived);
        if (_keys.AddOrGetFirstLine((NaturalKey.Fingerprint(row.ReceiptNumber, row.PoNumber), row.PoLineNo), line) is { } duplicateOf)
        {
            errors.Add(line, "receipt_number", row.ReceiptNumber,
                $"duplicate receipt_number + po_number + po_line_no ({row.ReceiptNumber}, {row.PoNumber} line {row.PoLineNo}): already on line {duplicateOf}");
        }
    }

    public async Task CheckReferencesAsync(IReadOnlyList<ReceiptRow> batch, IReferenceData references, CancellationToken cancellationToken)
    {
        var keys = batch.Select(r => new PurchaseOrderLineKey(r.PoNumber, r.PoLineNo)).ToHashSet();
        var known = await references.FindPurchaseOrderLinesAsync(keys, cancellationToken);
        foreach (var row in batch.Where(r => !known.Contains(new PurchaseOrderLineKey(r.PoNumber, r.PoLineNo))))
        {
            errors.Add(row.SourceLine, "po_line_no", $"{row.PoNumber} line {row.PoLineNo}", "no such purchase order line");
        }
    }

    public void Complete()
    {
    }
}
