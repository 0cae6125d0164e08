namespace Invisible.Ingestion;

/// <summary>
/// One reason a file was rejected. <see cref="Line"/> is the physical line of the file (header = 1, 0 = the file as a
/// whole); <see cref="Value"/> is the offending value, truncated and stripped of control characters. <see cref="Code"/> is
/// set where a caller branches on the reason (see <see cref="ImportErrorCodes"/>).
/// </summary>
public sealed record ImportError(string FileName, int Line, string? Column, string? Value, string Reason, string? Code = null)
{
    public override string ToString() =>
        $"{FileName}:{Line}{(Column is null ? "" : $" [{Column}]")}{(Value is null ? "" : $" '{Value}'")}: {Reason}";
}

/// <summary>Machine-readable reasons a file was rejected, for callers that route such files elsewhere.</summary>
public static class ImportErrorCodes
{
    /// <summary>
    /// A PDF with no embedded Factur-X/ZUGFeRD/XRechnung invoice XML: nothing to read, so e-mail intake turns it into a
    /// "to key" item. Reason: "the PDF carries no Factur-X/ZUGFeRD/XRechnung invoice data; key it by hand".
    /// </summary>
    public const string NoInvoiceData = "NO_INVOICE_DATA";
}

/// <summary>Something worth telling the user that does not reject the file, such as an unknown column.</summary>
public sealed record ImportWarning(string FileName, int Line, string? Column, string Message)
{
    public override string ToString() => $"{FileName}:{Line}{(Column is null ? "" : $" [{Column}]")}: {Message}";
}

/// <summary>Progress of a long import; <see cref="TotalBytes"/> is null when the length is unknown.</summary>
public sealed record ImportProgress(ImportPhase Phase, long RowsProcessed, long BytesProcessed, long? TotalBytes);

public enum ImportPhase
{
    /// <summary>The file is being copied, once, into the private copy every later pass reads (bytes only, no rows yet).</summary>
    Copying,
    Detecting,
    Validating,
    Completed,
}
