using CsvHelper;

namespace Invisible.Ingestion.Validation;

/// <summary>
/// Writes a rejected file's errors as the downloadable CSV: file,line,column,value,reason, plus a last row counting
/// the errors not listed. Text that a spreadsheet would run as a formula (starting with = + - @, tab or CR) is
/// prefixed with ' so that opening the download cannot execute anything.
/// </summary>
public static class ErrorCsvWriter
{
    public static async Task WriteAsync(ImportParseResult result, Stream destination, CancellationToken cancellationToken)
    {
        var options = new CsvWriterOptions { Injection = CsvInjection.Escape };
        await using var writer = CsvWriter.Create(destination, options, leaveOpen: true);
        foreach (var header in (ReadOnlySpan<string>)["file", "line", "column", "value", "reason"])
        {
            writer.WriteField(header);
        }

        writer.EndRecord();
        foreach (var error in result.Errors)
        {
            writer.WriteField(error.FileName);
            writer.WriteField(error.Line);
            writer.WriteField(error.Column);
            writer.WriteField(error.Value);
            writer.WriteField(error.Reason);
            writer.EndRecord();
        }

        if (result.UnlistedErrorCount > 0)
        {
            writer.WriteField(result.FileName);
            writer.WriteField(0);
            writer.WriteField((string?)null);
            writer.WriteField((string?)null);
            writer.WriteField($"{result.UnlistedErrorCount} more errors not listed");
            writer.EndRecord();
        }

        await writer.FlushAsync(cancellationToken);
    }
}
