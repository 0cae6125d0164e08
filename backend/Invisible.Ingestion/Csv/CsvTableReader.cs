using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Csv;

/// <summary>A CSV file that is not (yet) one of the canonical kinds, read as header + rows of text.</summary>
public sealed record CsvTable(IReadOnlyList<string> Header, IReadOnlyList<CsvTableRow> Rows);

public sealed record CsvTableRow(int Line, IReadOnlyList<string> Fields);

/// <summary>
/// Reads any CSV with the same detection and structural rules as the canonical import (encoding, delimiter, quoting,
/// field counts, control characters): for previews of a tenant's own file before a column mapping is saved.
/// </summary>
public static class CsvTableReader
{
    public static async Task<(CsvTable? Table, ErrorCollector Errors)> ReadAsync(
        Stream content,
        string fileName,
        ImportOptions options,
        int maxRows,
        CancellationToken cancellationToken)
    {
        var errors = new ErrorCollector(fileName, options.MaxErrors);
        var scan = await TextEncodingDetector.ScanAsync(content, options.Encoding, cancellationToken);
        var delimiter = options.Delimiter;
        if (delimiter is null)
        {
            (delimiter, var ambiguity) = DelimiterDetector.Detect(content, scan.Encoding);
            if (ambiguity is not null)
            {
                errors.Add(1, null, null, $"cannot tell the delimiter: {ambiguity}; pass the delimiter");
                return (null, errors);
            }
        }

        await using var reader = CsvRecordReader.Open(content, scan.Encoding, delimiter!.Value, options.MaxRecordBytes, errors);
        if (!await reader.ReadHeaderAsync(cancellationToken))
        {
            return (null, errors);
        }

        var rows = new List<CsvTableRow>();
        while (await reader.ReadAsync(cancellationToken) is (true, var wellFormed))
        {
            if (wellFormed && rows.Count < maxRows)
            {
                rows.Add(new CsvTableRow(reader.Line, Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToArray()));
            }
        }

        return errors.HasErrors ? (null, errors) : (new CsvTable(reader.Header, rows), errors);
    }
}
