namespace Invisible.Reconciliation.Documents;

/// <summary>
/// A supplier invoice exactly as printed: nothing on it is trusted to agree with the master data.
/// </summary>
/// <param name="Id">The storage layer's identity of this invoice document (two copies of one invoice have different ids).</param>
/// <param name="Origin">Where it was imported from; orders processing ("invoice_date, then file order") and results.</param>
/// <param name="InvoiceTotal">The header total as printed; all amounts are in <see cref="Currency"/>.</param>
public sealed record Invoice(
    string Id,
    string InvoiceNumber,
    string PrintedVendorName,
    string? PrintedTaxId,
    DateOnly InvoiceDate,
    string Currency,
    string? PrintedPoReference,
    decimal InvoiceTotal,
    ImportOrigin Origin,
    IReadOnlyList<InvoiceLine> Lines)
{
    public Money Total => new(InvoiceTotal, Currency);

    /// <summary>Sum of line amounts and line taxes, what the header total should be.</summary>
    public decimal SumOfLines => Lines.Sum(line => line.LineAmount + line.TaxAmount);
}

/// <param name="SourceLine">Line number of this row in the file it came from (the header is line 1).</param>
public sealed record InvoiceLine(
    int LineNo,
    string? Sku,
    string Description,
    decimal Quantity,
    decimal UnitPrice,
    decimal LineAmount,
    decimal TaxAmount,
    int SourceLine);

/// <summary>
/// Position of a document in the tenant's import history: the import (file) sequence, then the row within the file.
/// Ordering by it is "file order" across several imported files.
/// </summary>
public readonly record struct ImportOrigin(long ImportSequence, int FirstSourceLine) : IComparable<ImportOrigin>
{
    public int CompareTo(ImportOrigin other)
    {
        var byImport = ImportSequence.CompareTo(other.ImportSequence);
        return byImport != 0 ? byImport : FirstSourceLine.CompareTo(other.FirstSourceLine);
    }

    public static bool operator <(ImportOrigin left, ImportOrigin right) => left.CompareTo(right) < 0;
    public static bool operator >(ImportOrigin left, ImportOrigin right) => left.CompareTo(right) > 0;
    public static bool operator <=(ImportOrigin left, ImportOrigin right) => left.CompareTo(right) <= 0;
    public static bool operator >=(ImportOrigin left, ImportOrigin right) => left.CompareTo(right) >= 0;
}
