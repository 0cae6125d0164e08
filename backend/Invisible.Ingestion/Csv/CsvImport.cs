using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Csv;

/// <summary>One CSV import: detection pass, then the parse-and-validate pass.</summary>
internal sealed class CsvImport<TRow>(
    Stream content,
    ContentScan scan,
    string fileName,
    ImportOptions options,
    IReferenceData references,
    RowBatchSink<TRow> sink,
    IProgress<ImportProgress>? progress,
    ErrorCollector errors)
    where TRow : class, ICanonicalRow<TRow>
{
    private readonly DocumentSchema _schema = DocumentSchema.For(TRow.Kind);
    private long _rowCount;

    public async Task<ImportParseResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        char separator;
        ValueParser? parser;
        using (IngestionDiagnostics.StartSpan("import.detect"))
        {
            var delimiter = options.Delimiter ?? DetectDelimiter();
            if (delimiter is not { } detected)
            {
                return Finish(null);
            }

            separator = detected;
            parser = await DetectValueFormatsAsync(separator, cancellationToken);
        }

        var format = new DetectedFormat("csv", scan.Encoding.WebName, separator, parser?.Numbers.DecimalSeparator, parser?.DateFormats ?? []);
        if (parser is null)
        {
            return Finish(format);
        }

        using (IngestionDiagnostics.StartSpan("import.validate"))
        {
            await ValidateAsync(separator, parser, cancellationToken);
        }

        return Finish(format);
    }

    private char? DetectDelimiter()
    {
        var (delimiter, ambiguity) = DelimiterDetector.Detect(content, scan.Encoding);
        if (ambiguity is not null)
        {
            errors.Add(1, null, null, $"cannot tell the delimiter: {ambiguity}; pass the delimiter");
        }

        return delimiter;
    }

    /// <summary>Pass 1: the culture of numbers and dates, from every value of the number and date columns.</summary>
    private async Task<ValueParser?> DetectValueFormatsAsync(char delimiter, CancellationToken cancellationToken)
    {
        await using var reader = CsvRecordReader.Open(content, scan.Encoding, delimiter, options.MaxRecordBytes, errors);
        if (!await reader.ReadHeaderAsync(cancellationToken)
            || HeaderMap.Resolve(_schema, reader.Header, options.ColumnMapping, reader.HeaderLine, errors) is not { } map)
        {
            return null;
        }

        var needsNumbers = options.Culture is null;
        var needsDates = options.DateFormat is null;
        var numbers = new NumberFormatDetector();
        var dates = new DateFormatDetector();
        if (needsNumbers || needsDates)
        {
            var numberColumns = Present(map, ColumnType.Number);
            var dateColumns = Present(map, ColumnType.Date);
            while ((await reader.ReadAsync(cancellationToken)).Read)
            {
                if (needsNumbers)
                {
                    foreach (var (column, index) in numberColumns)
                    {
                        numbers.Observe(reader.GetUtf8(index), column.Name, reader.Line);
                    }
                }

                if (needsDates)
                {
                    foreach (var (column, index) in dateColumns)
                    {
                        dates.Observe(reader.GetUtf8(index), column.Name, reader.Line);
                    }
                }

                if (++_rowCount % options.BatchSize == 0)
                {
                    progress?.Report(new ImportProgress(ImportPhase.Detecting, _rowCount, reader.ByteOffset, scan.Length));
                }
            }
        }

        _rowCount = 0;
        if (errors.HasErrors)
        {
            return null; // the record structure is broken (e.g. an oversized record): pass 2 would only repeat it
        }

        var (style, numberColumn, numberProblem) = options.Culture is { } culture ? (NumberStyleChoice.From(culture), null, null) : numbers.Decide();
        var (formats, dateColumn, dateProblem) = options.DateFormat is { } dateFormat
            ? ([DateFormatDetector.Iso, dateFormat], null, null)
            : dates.Decide(options.Culture);
        if (numberProblem is not null)
        {
            errors.Add(0, numberColumn, null, $"cannot tell the number format: {numberProblem}");
        }

        if (dateProblem is not null)
        {
            errors.Add(0, dateColumn, null, $"cannot tell the date format: {dateProblem}");
        }

        return style is null || formats is null ? null : new ValueParser(style, formats);
    }

    /// <summary>Pass 2: every row is read, checked and, while the file is still clean, handed on in batches.</summary>
    private async Task ValidateAsync(char delimiter, ValueParser parser, CancellationToken cancellationToken)
    {
        await using var reader = CsvRecordReader.Open(content, scan.Encoding, delimiter, options.MaxRecordBytes, errors);
        // Header problems were reported by pass 1; a throwaway collector keeps them from being counted twice.
        var map = await reader.ReadHeaderAsync(cancellationToken)
            ? HeaderMap.Resolve(_schema, reader.Header, options.ColumnMapping, reader.HeaderLine, new ErrorCollector(fileName, 0))
            : null;
        if (map is null)
        {
            return;
        }

        var fields = new RowFields(reader, map, parser, errors);
        var readRow = CsvRowReaders.For<TRow>();
        var rules = RowRules.For<TRow>(errors);
        var batch = new List<TRow>(options.BatchSize);
        while (true)
        {
            var (read, wellFormed) = await reader.ReadAsync(cancellationToken);
            if (!read)
            {
                break;
            }

            _rowCount++;
            fields.MoveTo(reader.Line);
            if (wellFormed && readRow(fields) is { } row)
            {
                rules.Check(row);
                batch.Add(row);
            }

            if (batch.Count == options.BatchSize)
            {
                await FlushAsync(batch, rules, cancellationToken);
                progress?.Report(new ImportProgress(ImportPhase.Validating, _rowCount, reader.ByteOffset, scan.Length));
            }
        }

        await FlushAsync(batch, rules, cancellationToken);
        rules.Complete();
        progress?.Report(new ImportProgress(ImportPhase.Completed, _rowCount, scan.Length, scan.Length));
    }

    private async Task FlushAsync(List<TRow> batch, IRowRules<TRow> rules, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        await rules.CheckReferencesAsync(batch, references, cancellationToken);
        if (!errors.HasErrors)
        {
            await sink(batch, cancellationToken);
        }

        batch.Clear();
    }

    private static List<(Column Column, int Index)> Present(HeaderMap map, ColumnType type) =>
        map.Schema.Columns.Where(c => c.Type == type && map.FieldIndex(c) >= 0).Select(c => (c, map.FieldIndex(c))).ToList();

    private ImportParseResult Finish(DetectedFormat? format) =>
        new(fileName, !errors.HasErrors, errors.HasErrors ? 0 : _rowCount, scan.Sha256, format, errors.Warnings,
            [.. errors.Errors.OrderBy(e => e.Line)], errors.TotalCount);
}
