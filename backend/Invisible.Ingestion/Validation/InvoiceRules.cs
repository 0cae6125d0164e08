using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Validation;

/// <summary>
/// Invoice lines. line_amount must equal quantity × unit_price rounded to cents, half away from zero
/// (<see cref="LineAmount"/>); every row of an invoice (same printed vendor name and invoice number) must repeat the
/// same invoice_total, currency and date, and the total must equal the sum of line_amount + tax_amount exactly.
/// </summary>
public sealed class InvoiceRules(ErrorCollector errors) : IRowRules<InvoiceLineRow>
{
    private readonly NaturalKeySet<(UInt128 Invoice, int LineNo)> _lines = new();
    private readonly Dictionary<UInt128, InvoiceTotals> _invoices = [];
    private InvoiceTotals? _previous;

    /// <summary>The rounding rule of the canonical format: to cents, half away from zero.</summary>
    public static decimal LineAmount(decimal quantity, decimal unitPrice) =>
        decimal.Round(quantity * unitPrice, 2, MidpointRounding.AwayFromZero);

    public void Check(InvoiceLineRow row)
    {
        var line = row.SourceLine;
        RowRules.CheckLineNumber(errors, line, "line_no", row.LineNo);
        if (row.Quantity == 0)
        {
            errors.Add(line, "quantity", "0", "must not be 0 (credit lines have a negative quantity)");
        }

        RowRules.CheckUnitPrice(errors, line, row.UnitPrice);
        RowRules.CheckCurrency(errors, line, row.Currency);
        CheckCents(line, "line_amount", row.LineAmount);
        CheckCents(line, "tax_amount", row.TaxAmount);
        CheckCents(line, "invoice_total", row.InvoiceTotal);
        if (LineAmount(row.Quantity, row.UnitPrice) is var expected && expected != row.LineAmount)
        {
            errors.Add(line, "line_amount", RowRules.Format(row.LineAmount),
                $"quantity × unit_price = {RowRules.Format(row.Quantity)} × {RowRules.Format(row.UnitPrice)} = {RowRules.Format(expected)} (rounded to cents, half away from zero)");
        }

        var invoice = TrackInvoice(row);
        if (_lines.AddOrGetFirstLine((invoice.Key, row.LineNo), line) is { } duplicateOf)
        {
            errors.Add(line, "line_no", RowRules.Format(row.LineNo),
                $"duplicate line {row.LineNo} of invoice {row.InvoiceNumber} from '{row.VendorName}': already on line {duplicateOf}");
        }
    }

    public Task CheckReferencesAsync(IReadOnlyList<InvoiceLineRow> batch, IReferenceData references, CancellationToken cancellationToken) =>
        Task.CompletedTask; // printed vendor names and PO numbers are resolved by matching, not required to exist

    public void Complete()
    {
        foreach (var invoice in _invoices.Values.Where(i => i.Consistent && i.Sum != i.DeclaredTotal))
        {
            errors.Add(invoice.FirstLine, "invoice_total", RowRules.Format(invoice.DeclaredTotal),
                $"invoice {invoice.InvoiceNumber}: the sum of line_amount + tax_amount over its {invoice.LineCount} lines is {RowRules.Format(invoice.Sum)}");
        }
    }

    private void CheckCents(int line, string column, decimal amount)
    {
        if (amount.Scale > 2 && decimal.Round(amount, 2) != amount) // "1.50" has scale 2; "1.500" has 3 and is still fine
        {
            errors.Add(line, column, RowRules.Format(amount), "has more than 2 decimals");
        }
    }

    private InvoiceTotals TrackInvoice(InvoiceLineRow row)
    {
        // The rows of an invoice are nearly always consecutive: comparing with the previous row saves hashing.
        var invoice = _previous is { } previous && previous.IsInvoiceOf(row) ? previous : null;
        if (invoice is null)
        {
            var key = NaturalKey.Fingerprint(row.VendorName, row.InvoiceNumber);
            if (!_invoices.TryGetValue(key, out invoice))
            {
                _previous = new InvoiceTotals(key, row);
                _invoices.Add(key, _previous);
                return _previous;
            }
        }

        _previous = invoice;
        invoice.LineCount++;
        invoice.Sum += row.LineAmount + row.TaxAmount;
        if (row.InvoiceTotal != invoice.DeclaredTotal)
        {
            invoice.Consistent = false;
            errors.Add(row.SourceLine, "invoice_total", RowRules.Format(row.InvoiceTotal), Differs(row, invoice, RowRules.Format(invoice.DeclaredTotal)));
        }

        if (row.Currency != invoice.Currency)
        {
            errors.Add(row.SourceLine, "currency", row.Currency, Differs(row, invoice, invoice.Currency));
        }

        if (row.InvoiceDate != invoice.Date)
        {
            errors.Add(row.SourceLine, "invoice_date", RowRules.Format(row.InvoiceDate), Differs(row, invoice, RowRules.Format(invoice.Date)));
        }

        return invoice;
    }

    private static string Differs(InvoiceLineRow row, InvoiceTotals invoice, string firstValue) =>
        $"invoice {row.InvoiceNumber} has {firstValue} on line {invoice.FirstLine}";

    /// <summary>What the end-of-file check needs of one invoice; small, since a file may hold a million lines.</summary>
    private sealed class InvoiceTotals(UInt128 key, InvoiceLineRow first)
    {
        private readonly string _vendorName = first.VendorName;

        public UInt128 Key { get; } = key;
        public string InvoiceNumber { get; } = first.InvoiceNumber;
        public int FirstLine { get; } = first.SourceLine;
        public decimal DeclaredTotal { get; } = first.InvoiceTotal;
        public string Currency { get; } = first.Currency;
        public DateOnly Date { get; } = first.InvoiceDate;
        public decimal Sum { get; set; } = first.LineAmount + first.TaxAmount;
        public int LineCount { get; set; } = 1;
        public bool Consistent { get; set; } = true;

        public bool IsInvoiceOf(InvoiceLineRow row) => row.InvoiceNumber == InvoiceNumber && row.VendorName == _vendorName;
    }
}
