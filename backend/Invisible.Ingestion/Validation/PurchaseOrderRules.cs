using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Validation;

/// <summary>PO lines: ranges, unique po_number + line_no, one vendor/currency/date per PO, vendors that exist.</summary>
public sealed class PurchaseOrderRules(ErrorCollector errors) : IRowRules<PurchaseOrderLineRow>
{
    private readonly NaturalKeySet<(UInt128 PoNumber, int LineNo)> _lines = new();
    private readonly Dictionary<string, PurchaseOrderLineRow> _firstLineOfPo = new(StringComparer.Ordinal);

    public void Check(PurchaseOrderLineRow row)
    {
        var line = row.SourceLine;
        RowRules.CheckLineNumber(errors, line, "line_no", row.LineNo);
        RowRules.CheckPositive(errors, line, "quantity", row.Quantity);
        RowRules.CheckUnitPrice(errors, line, row.UnitPrice);
        RowRules.CheckCurrency(errors, line, row.Currency);
        if (_lines.AddOrGetFirstLine((NaturalKey.Fingerprint(row.PoNumber), row.LineNo), line) is { } duplicateOf)
        {
            errors.Add(line, "line_no", RowRules.Format(row.LineNo),
                $"duplicate po_number + line_no ({row.PoNumber} line {row.LineNo}): already on line {duplicateOf}");
        }

        if (!_firstLineOfPo.TryGetValue(row.PoNumber, out var first))
        {
            _firstLineOfPo.Add(row.PoNumber, row);
            return;
        }

        if (first.VendorCode != row.VendorCode)
        {
            errors.Add(line, "vendor_code", row.VendorCode, $"{row.PoNumber} has vendor {first.VendorCode} on line {first.SourceLine}");
        }

        if (first.Currency != row.Currency)
        {
            errors.Add(line, "currency", row.Currency, $"{row.PoNumber} is in {first.Currency} on line {first.SourceLine}");
        }

        if (first.OrderDate != row.OrderDate)
        {
            errors.Add(line, "order_date", RowRules.Format(row.OrderDate),
                $"{row.PoNumber} is dated {RowRules.Format(first.OrderDate)} on line {first.SourceLine}");
        }
    }

    public async Task CheckReferencesAsync(IReadOnlyList<PurchaseOrderLineRow> batch, IReferenceData references, CancellationToken cancellationToken)
    {
        var codes = batch.Select(r => r.VendorCode).ToHashSet(StringComparer.Ordinal);
        var known = await references.FindVendorCodesAsync(codes, cancellationToken);
        foreach (var row in batch.Where(r => !known.Contains(r.VendorCode)))
        {
            errors.Add(row.SourceLine, "vendor_code", row.VendorCode, "no vendor with this code in the vendor master");
        }
    }

    public void Complete()
    {
    }
}
