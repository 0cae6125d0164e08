using System.Globalization;

namespace Invisible.Reconciliation.Matching;

/// <summary>One row of <c>results.csv</c> (FORMATS section 3).</summary>
public sealed record ResultsRow(
    string InvoiceNumber,
    string VendorCode,
    string InvoiceStatus,
    int LineNo,
    string LineStatus,
    string PoNumber,
    int? PoLineNo,
    int SourceLine)
{
    /// <summary>The row's fields in <see cref="ResultsExport.Columns"/> order, as they are written to the file.</summary>
    public IReadOnlyList<string> Fields =>
    [
        InvoiceNumber, VendorCode, InvoiceStatus, LineNo.ToString(CultureInfo.InvariantCulture), LineStatus, PoNumber,
        PoLineNo?.ToString(CultureInfo.InvariantCulture) ?? "", SourceLine.ToString(CultureInfo.InvariantCulture),
    ];
}

/// <summary>The results export: one row per invoice line, in import order then source line.</summary>
public static class ResultsExport
{
    public static readonly IReadOnlyList<string> Columns =
        ["invoice_number", "vendor_code", "invoice_status", "line_no", "line_status", "po_number", "po_line_no", "source_line"];

    public static IReadOnlyList<ResultsRow> Rows(ReconciliationResult result) =>
        result.Invoices
            .SelectMany(invoice => invoice.Lines.Select(line => (invoice.Origin.ImportSequence, Row: new ResultsRow(
                invoice.InvoiceNumber,
                invoice.VendorCode ?? "",
                invoice.Status.ToExportName(),
                line.LineNo,
                line.Status.ToExportName(),
                line.PoNumber ?? "",
                line.PoLineNo,
                line.SourceLine))))
            .OrderBy(entry => entry.ImportSequence)
            .ThenBy(entry => entry.Row.SourceLine)
            .Select(entry => entry.Row)
            .ToList();
}
