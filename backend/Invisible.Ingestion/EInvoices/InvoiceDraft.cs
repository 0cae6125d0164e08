using System.Globalization;
using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.EInvoices;

/// <summary>
/// What UBL and CII have in common once read (EN 16931 semantics), before signs are applied: so that the same invoice
/// sent in either syntax, or inside a Factur-X PDF, becomes the same canonical rows.
/// </summary>
internal sealed class InvoiceDraft
{
    /// <summary>
    /// UNTDID 1001 document types EN 16931 counts as credit notes (BT-3). Their amounts are positive in the document and
    /// negative in the canonical rows, as the matching engine expects of credits.
    /// </summary>
    private static readonly HashSet<string> CreditNoteTypes = ["81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"];

    public string? InvoiceNumber { get; set; }
    public string? VendorName { get; set; }
    public string? VendorTaxId { get; set; }
    public DateOnly? IssueDate { get; set; }
    public string? Currency { get; set; }
    public string? PoNumber { get; set; }
    public decimal? Total { get; set; }
    public bool IsCreditNote { get; set; }
    public List<LineDraft> Lines { get; } = [];

    /// <summary>
    /// Amounts, quantities and prices beyond this magnitude are refused: no invoice needs them, and their products
    /// would overflow <see cref="decimal"/> (quantity × price, amount × tax rate).
    /// </summary>
    public const decimal MaxMagnitude = 1_000_000_000_000m;

    /// <summary>Tax rates above this many percent are refused as implausible (and as an overflow guard).</summary>
    public const decimal MaxPercent = 1_000m;

    /// <summary>An EN 16931 decimal (no thousands separators, '.' for decimals, optional sign); null with the reason otherwise.</summary>
    public static decimal? ParseDecimal(string text, decimal maxMagnitude, out string? problem)
    {
        problem = null;
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            problem = "not a number";
            return null;
        }

        if (Math.Abs(value) > maxMagnitude)
        {
            problem = $"is outside ±{maxMagnitude.ToString("N0", CultureInfo.InvariantCulture)}";
            return null;
        }

        return value;
    }

    public static bool IsCreditNoteType(string? typeCode) => typeCode is not null && CreditNoteTypes.Contains(typeCode);

    /// <summary>
    /// Order references that stand for "no purchase order": UBL requires OrderReference/ID next to a SalesOrderID, and
    /// writers fill it with Peppol's "NA" or, in the XRechnung test suite, "Dummywert" (placeholder value).
    /// </summary>
    private static readonly HashSet<string> NoPurchaseOrderPlaceholders = new(["NA", "N/A", "Dummywert"], StringComparer.OrdinalIgnoreCase);

    public static bool IsNoPurchaseOrderPlaceholder(string? reference) => reference is not null && NoPurchaseOrderPlaceholders.Contains(reference);

    /// <summary>
    /// The canonical line numbers: the document's line ids when they are all distinct positive whole numbers, else the
    /// position (EN 16931 line ids are free text, such as "7.1", and may start at 0), said once in <paramref name="warn"/>.
    /// </summary>
    public static int[] LineNumbers(IReadOnlyList<string?> ids, Action<string> warn)
    {
        var numbers = new int[ids.Count];
        var seen = new HashSet<int>();
        for (var i = 0; i < ids.Count; i++)
        {
            if (!int.TryParse(ids[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]) || numbers[i] <= 0 || !seen.Add(numbers[i]))
            {
                var example = ErrorCollector.Sanitize(ids[i]) ?? "(none)";
                warn($"line id '{example}' is not a distinct positive whole number; the lines are numbered by position");
                return [.. Enumerable.Range(1, ids.Count)];
            }
        }

        return numbers;
    }

    /// <summary>
    /// The billed quantity and unit price (at most 4 decimals, FORMATS.md), such that quantity × unit price is the line
    /// amount: the stated net price per unit when it gives the line amount; else, when the line's own allowances or
    /// charges or a price of more decimals make it differ, the net price (line amount / quantity) if that gives it; else
    /// (e.g. 804,878.94 kWh at 0.01146) the line is billed as 1 × its amount, since the amount is what is owed.
    /// </summary>
    public static (decimal Quantity, decimal UnitPrice) BilledQuantityAndPrice(decimal quantity, decimal price, decimal baseQuantity, decimal lineAmount, Action<string> warn)
    {
        var unitPrice = decimal.Round(price / baseQuantity, 4, MidpointRounding.AwayFromZero);
        if (quantity == 0 || InvoiceRules.LineAmount(quantity, unitPrice) == lineAmount)
        {
            return (quantity, unitPrice);
        }

        var netPrice = decimal.Round(lineAmount / quantity, 4, MidpointRounding.AwayFromZero);
        if (InvoiceRules.LineAmount(quantity, netPrice) == lineAmount && netPrice >= 0)
        {
            warn($"{RowRules.Format(quantity)} × {RowRules.Format(unitPrice)} ≠ line amount {RowRules.Format(lineAmount)} (line allowances or charges, or a price of more decimals); the net unit price {RowRules.Format(netPrice)} is used");
            return (quantity, netPrice);
        }

        warn($"no unit price of at most 4 decimals gives {RowRules.Format(quantity)} × price = line amount {RowRules.Format(lineAmount)} (stated price {RowRules.Format(price)} per {RowRules.Format(baseQuantity)}); the line is billed as quantity {(lineAmount < 0 ? -1 : 1)} at {RowRules.Format(Math.Abs(lineAmount))}");
        return (lineAmount < 0 ? -1 : 1, Math.Abs(lineAmount));
    }

    /// <summary>
    /// VAT is computed per category, not per line: the cents by which the lines' own tax differs from the document's
    /// subtotal of a category go to that category's largest line, so that lines plus tax add up to the total.
    /// </summary>
    public void AllocateTaxRounding(IEnumerable<(string Category, decimal Declared)> subtotals)
    {
        foreach (var (category, declared) in subtotals)
        {
            var lines = Lines.Where(l => l.TaxCategory == category).ToList();
            if (lines.Count == 0)
            {
                continue;
            }

            var difference = declared - lines.Sum(l => l.TaxAmount);
            if (difference != 0 && Math.Abs(difference) <= 0.01m * lines.Count)
            {
                lines.MaxBy(l => Math.Abs(l.LineAmount))!.TaxAmount += difference;
            }
        }
    }

    public static string TaxCategoryKey(string? categoryCode, decimal percent) =>
        $"{categoryCode}/{percent.ToString("0.####", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The canonical rows; call only when the draft is complete (every required field present). A row's source line is its
    /// element's line in the XML where that can tell rows apart, else the next free one: an invoice written on a single line
    /// (common from supplier systems) has every element on line 1, and stored rows need distinct source lines after the
    /// header line of a file (2, 3, …).
    /// </summary>
    public List<InvoiceLineRow> ToRows()
    {
        var sign = IsCreditNote ? -1m : 1m;
        var nextFree = 2;
        var rows = new List<InvoiceLineRow>(Lines.Count);
        foreach (var l in Lines)
        {
            var sourceLine = Math.Max(l.SourceLine, nextFree);
            nextFree = sourceLine + 1;
            rows.Add(new InvoiceLineRow(
                sourceLine, 1, InvoiceNumber!, VendorName!, VendorTaxId, IssueDate!.Value, Currency!, PoNumber, l.LineNo, l.Sku,
                l.Description, sign * l.Quantity, l.UnitPrice, sign * l.LineAmount, sign * l.TaxAmount, sign * Total!.Value));
        }

        return rows;
    }
}

/// <summary>A line before signs are applied; tax is adjusted by the per-category rounding allocation.</summary>
internal sealed record LineDraft(
    int SourceLine,
    int LineNo,
    string? Sku,
    string Description,
    decimal Quantity,
    decimal UnitPrice,
    decimal LineAmount,
    string TaxCategory,
    decimal TaxPercent)
{
    public decimal TaxAmount { get; set; } = decimal.Round(LineAmount * TaxPercent / 100m, 2, MidpointRounding.AwayFromZero);
}
