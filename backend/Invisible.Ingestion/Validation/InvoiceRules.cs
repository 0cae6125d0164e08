using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Validation;

/// <summary>
/// Invoice lines. line_amount must equal quantity × unit_price rounded to cents, half away from zero
/// (<see cref="LineAmount"/>); every row of an invoice (its <see cref="InvoiceLineRow.InvoicePosition"/>, see
/// <see cref="InvoiceGrouping"/>) must repeat the same invoice_total, currency and date.
/// Two things that look wrong are deliberately NOT errors, because FORMATS.md section 2 makes them matching outcomes: an
/// invoice_total that differs from the sum of line_amount + tax_amount ("totals that do not add up" is an exception, and
/// a reviewer must see that invoice), and the same invoice appearing twice in one file (a re-sent copy is a duplicate).
/// Totals that do not add up are reported as one warning per file.
/// </summary>
public sealed class InvoiceRules(ErrorCollector errors) : IRowRules<InvoiceLineRow>
{
    private const int ListedTotalMismatches = 5;

    // Indexed by InvoicePosition - 1: positions are dense and handed out in order of first appearance.
    private readonly List<InvoiceHeader> _invoices = [];

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

        CheckHeader(row);
    }

    public Task CheckReferencesAsync(IReadOnlyList<InvoiceLineRow> batch, IReferenceData references, CancellationToken cancellationToken) =>
        Task.CompletedTask; // printed vendor names and PO numbers are resolved by matching, not required to exist

    public void Complete()
    {
        var mismatches = _invoices.Where(i => i.Consistent && i.Sum != i.DeclaredTotal).ToList();
        if (mismatches.Count == 0)
        {
            return;
        }

        var examples = string.Join("; ", mismatches.Take(ListedTotalMismatches).Select(i =>
            $"line {i.FirstLine}: {RowRules.Format(i.DeclaredTotal)} declared, lines + tax = {RowRules.Format(i.Sum)}"));
        errors.Warn(mismatches[0].FirstLine, "invoice_total",
            $"{mismatches.Count} invoice(s) declare an invoice_total other than the sum of line_amount + tax_amount ({examples}" +
            $"{(mismatches.Count > ListedTotalMismatches ? "; …" : "")}); they are stored and reconciliation reports them as exceptions");
    }

    private void CheckCents(int line, string column, decimal amount)
    {
        if (amount.Scale > 2 && decimal.Round(amount, 2) != amount) // "1.50" has scale 2; "1.500" has 3 and is still fine
        {
            errors.Add(line, column, RowRules.Format(amount), "has more than 2 decimals");
        }
    }

    private void CheckHeader(InvoiceLineRow row)
    {
        var index = row.InvoicePosition - 1;
        if (index == _invoices.Count)
        {
            _invoices.Add(new InvoiceHeader(row));
            return;
        }

        var invoice = _invoices[index];
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
    }

    private static string Differs(InvoiceLineRow row, InvoiceHeader invoice, string firstValue) =>
        $"invoice {row.InvoiceNumber} has {firstValue} on line {invoice.FirstLine}";

    /// <summary>What the header checks need of one invoice; small, since a file may hold a million lines.</summary>
    private sealed class InvoiceHeader(InvoiceLineRow first)
    {
        public int FirstLine { get; } = first.SourceLine;
        public decimal DeclaredTotal { get; } = first.InvoiceTotal;
        public string Currency { get; } = first.Currency;
        public DateOnly Date { get; } = first.InvoiceDate;
        public decimal Sum { get; set; } = first.LineAmount + first.TaxAmount;
        public bool Consistent { get; set; } = true;
    }
}
