namespace Invisible.Ingestion;

/// <summary>How a file was read: what the detection found (or the options imposed).</summary>
/// <param name="Format">"csv", "ubl-invoice", "ubl-creditnote", "cii-invoice", "cii-creditnote", or "pdf+" one of the XML
/// formats for a PDF that carries it.</param>
/// <param name="Encoding">Web name of the text encoding, e.g. "utf-8", "windows-1252".</param>
/// <param name="Delimiter">CSV field delimiter; null for XML.</param>
/// <param name="DecimalSeparator">CSV decimal separator; null for XML.</param>
/// <param name="DateFormats">Accepted date formats, in the order tried.</param>
public sealed record DetectedFormat(
    string Format,
    string Encoding,
    char? Delimiter,
    char? DecimalSeparator,
    IReadOnlyList<string> DateFormats);

/// <summary>
/// The verdict on one file. Accepted: every row is valid and was delivered. Rejected: <see cref="Errors"/> lists the
/// first <see cref="ImportOptions.MaxErrors"/> errors and <see cref="TotalErrorCount"/> counts all of them; rows
/// already delivered to a sink must then be discarded (all-or-nothing).
/// </summary>
public record ImportParseResult(
    string FileName,
    bool Accepted,
    long RowCount,
    string ContentSha256,
    DetectedFormat? Format,
    IReadOnlyList<ImportWarning> Warnings,
    IReadOnlyList<ImportError> Errors,
    long TotalErrorCount)
{
    /// <summary>Errors found beyond those listed in <see cref="Errors"/>.</summary>
    public long UnlistedErrorCount => TotalErrorCount - Errors.Count;
}

/// <summary>An <see cref="ImportParseResult"/> with the rows held in memory, for small files; empty when rejected.</summary>
public sealed record ImportParseResult<TRow>(ImportParseResult Result, IReadOnlyList<TRow> Rows);
