using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Invisible.Ingestion.Validation;
using Invisible.Server.Errors;

namespace Invisible.Server.Keying;

/// <summary>One line as keyed: amounts already checked.</summary>
public sealed record KeyedLineInput(string Sku, string Description, decimal Quantity, decimal UnitPrice, decimal Amount);

/// <summary>An invoice keyed from a PDF, checked field by field.</summary>
public sealed record KeyedInvoice(
    string VendorName,
    string InvoiceNumber,
    DateOnly InvoiceDate,
    DateOnly? DueDate,
    string Currency,
    string PoNumber,
    IReadOnlyList<KeyedLineInput> Lines,
    decimal TaxAmount,
    decimal InvoiceTotal,
    string? VendorCode = null);

/// <summary>The fields of the keying form as they arrive (text, as typed).</summary>
public sealed record KeyedInvoiceFields(
    string VendorName,
    string InvoiceNumber,
    string InvoiceDate,
    string DueDate,
    string Currency,
    string PoNumber,
    IReadOnlyList<(string Sku, string Description, string Quantity, string UnitPrice, string Amount)> Lines,
    string TaxAmount,
    string InvoiceTotal,
    string VendorCode = "");

/// <summary>
/// The rules of the keying form (pure): every wrong field is reported with its name, so the form can show each beside its
/// input; the keyed invoice then becomes a canonical invoice CSV (FORMATS.md) that the one import path stores.
/// </summary>
public static partial class KeyedInvoiceForm
{
    public const int MaxLines = 500;

    public static (KeyedInvoice? Invoice, IReadOnlyList<FieldViolation> Violations) Check(KeyedInvoiceFields fields)
    {
        var violations = new List<FieldViolation>();
        var vendor = Required(fields.VendorName, "vendor_name", 200, violations);
        var number = Required(fields.InvoiceNumber, "invoice_number", 100, violations);
        var date = Date(fields.InvoiceDate, "invoice_date", required: true, violations);
        var due = Date(fields.DueDate, "due_date", required: false, violations);
        if (date is { } issued && due is { } payable && payable < issued)
        {
            violations.Add(new FieldViolation("due_date", "must not be before the invoice date"));
        }

        var currency = fields.Currency.Trim().ToUpperInvariant();
        if (!CurrencyPattern().IsMatch(currency))
        {
            violations.Add(new FieldViolation("currency", "must be a three-letter ISO 4217 code such as EUR"));
        }

        // The vendor the person chose (optional); whether it exists is the queue's question, this only checks its shape.
        var vendorCode = fields.VendorCode.Trim();
        if (vendorCode.Length > 100 || vendorCode.Any(char.IsControl))
        {
            violations.Add(new FieldViolation("vendor_code", "must be at most 100 characters on one line"));
        }

        var po = fields.PoNumber.Trim();
        if (po.Length > 100)
        {
            violations.Add(new FieldViolation("po_number", "must be at most 100 characters"));
        }

        if (fields.Lines.Count == 0 || fields.Lines.Count > MaxLines)
        {
            violations.Add(new FieldViolation("lines", $"must have between 1 and {MaxLines} lines"));
        }

        var lines = new List<KeyedLineInput>();
        for (var i = 0; i < Math.Min(fields.Lines.Count, MaxLines); i++)
        {
            var line = fields.Lines[i];
            var prefix = $"lines[{i}]";
            var description = Required(line.Description, $"{prefix}.description", 500, violations);
            var sku = line.Sku.Trim();
            var quantity = Amount(line.Quantity, $"{prefix}.quantity", required: true, maxDecimals: 4, violations);
            if (quantity == 0)
            {
                violations.Add(new FieldViolation($"{prefix}.quantity", "must not be 0 (a credit line has a negative quantity)"));
            }

            var unitPrice = Amount(line.UnitPrice, $"{prefix}.unit_price", required: true, maxDecimals: 4, violations);
            if (unitPrice < 0)
            {
                violations.Add(new FieldViolation($"{prefix}.unit_price", "must not be negative"));
            }

            var amount = Amount(line.Amount, $"{prefix}.amount", required: true, maxDecimals: 2, violations);
            if (quantity is { } q && unitPrice is { } p && amount is { } a && InvoiceRules.LineAmount(q, p) is var expected && expected != a)
            {
                violations.Add(new FieldViolation($"{prefix}.amount", $"quantity × unit price is {Format(expected)}, not {Format(a)}"));
            }

            if (description is not null && quantity is { } qq && unitPrice is { } pp && amount is { } aa)
            {
                lines.Add(new KeyedLineInput(sku, description, qq, pp, aa));
            }
        }

        var tax = Amount(fields.TaxAmount, "tax_amount", required: false, maxDecimals: 2, violations) ?? 0m;
        var total = Amount(fields.InvoiceTotal, "invoice_total", required: true, maxDecimals: 2, violations);
        if (total is { } declared && lines.Count == fields.Lines.Count && lines.Count > 0)
        {
            var sum = lines.Sum(l => l.Amount) + tax;
            if (sum != declared)
            {
                violations.Add(new FieldViolation("invoice_total", $"the lines ({Format(lines.Sum(l => l.Amount))}) and tax ({Format(tax)}) add up to {Format(sum)}, not {Format(declared)}"));
            }
        }

        if (violations.Count > 0 || vendor is null || number is null || date is null || total is null)
        {
            return (null, violations);
        }

        return (new KeyedInvoice(vendor, number, date.Value, due, currency, po, lines, tax, total.Value, vendorCode.Length == 0 ? null : vendorCode), violations);
    }

    /// <summary>
    /// The keyed invoice as a canonical invoice CSV, all tax on the first line; <paramref name="keyedFrom"/> (the to-key
    /// item) is a column of its own, which the importer ignores with a warning, so that two items keyed alike are two imports.
    /// </summary>
    public static byte[] ToCsv(KeyedInvoice invoice, string keyedFrom)
    {
        var csv = new StringBuilder("invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,tax_amount,invoice_total,keyed_from\n");
        for (var i = 0; i < invoice.Lines.Count; i++)
        {
            var line = invoice.Lines[i];
            string[] cells =
            [
                invoice.InvoiceNumber, invoice.VendorName, invoice.InvoiceDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), invoice.Currency,
                invoice.PoNumber, (i + 1).ToString(CultureInfo.InvariantCulture), line.Sku, line.Description, Format(line.Quantity), Format(line.UnitPrice),
                Format(line.Amount), Format(i == 0 ? invoice.TaxAmount : 0m), Format(invoice.InvoiceTotal), keyedFrom,
            ];
            csv.AppendJoin(',', cells.Select(Quote)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(csv.ToString());
    }

    private static string Quote(string cell) => $"\"{cell.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static string Format(decimal value) => value.ToString("0.00##", CultureInfo.InvariantCulture);

    private static string? Required(string value, string field, int maxLength, List<FieldViolation> violations)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            violations.Add(new FieldViolation(field, "is required"));
            return null;
        }

        if (trimmed.Length > maxLength || trimmed.Any(char.IsControl))
        {
            violations.Add(new FieldViolation(field, $"must be at most {maxLength} characters on one line"));
            return null;
        }

        return trimmed;
    }

    private static DateOnly? Date(string value, string field, bool required, List<FieldViolation> violations)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            if (required)
            {
                violations.Add(new FieldViolation(field, "is required"));
            }

            return null;
        }

        if (!DateOnly.TryParseExact(trimmed, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) || date.Year < 1900 || date.Year > 2999)
        {
            violations.Add(new FieldViolation(field, "must be a date written yyyy-MM-dd"));
            return null;
        }

        return date;
    }

    private static decimal? Amount(string value, string field, bool required, int maxDecimals, List<FieldViolation> violations)
    {
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            if (required)
            {
                violations.Add(new FieldViolation(field, "is required"));
            }

            return null;
        }

        if (!decimal.TryParse(trimmed, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) ||
            Math.Abs(number) >= 1_000_000_000_000m)
        {
            violations.Add(new FieldViolation(field, "must be a number such as 1234.50 ('.' for decimals, no thousands separators)"));
            return null;
        }

        if (decimal.Round(number, maxDecimals) != number)
        {
            violations.Add(new FieldViolation(field, $"must have at most {maxDecimals} decimals"));
            return null;
        }

        return number;
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();
}
