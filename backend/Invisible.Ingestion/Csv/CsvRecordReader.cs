using System.Text;
using CsvHelper;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Csv;

/// <summary>
/// RFC 4180 records with the physical line each starts on, over CsvHelper. Structural problems (broken quoting,
/// a field count that differs from the header, control characters, an oversized record) become errors naming the
/// line. A quote inside an unquoted field (12" pipe) is kept as text, as RFC 4180 readers commonly do.
/// </summary>
internal sealed class CsvRecordReader : IAsyncDisposable
{
    private readonly CsvReader _reader;
    private readonly ErrorCollector _errors;
    private readonly List<CsvMalformedRecord> _malformed = [];

    private CsvRecordReader(CsvReader reader, ErrorCollector errors)
    {
        _reader = reader;
        _errors = errors;
    }

    public static CsvRecordReader Open(Stream content, Encoding encoding, char delimiter, int maxRecordBytes, ErrorCollector errors)
    {
        content.Position = 0;
        CsvRecordReader? self = null;
        var options = new CsvReaderOptions
        {
            Separator = delimiter,
            HasHeader = true,
            Encoding = encoding is UTF8Encoding ? null : encoding,
            TrackLineNumbers = true,
            SkipEmptyLines = true,
            MaxRecordSize = maxRecordBytes,
            IncludeValuesInExceptions = false, // values may be personal data; errors carry them sanitised instead
            OnMalformedRecord = record => self!._malformed.Add(record),
        };
        self = new CsvRecordReader(CsvReader.Create(content, options, leaveOpen: true), errors);
        return self;
    }

    public IReadOnlyList<string> Header { get; private set; } = [];

    /// <summary>The line of the header: 1, unless blank lines precede it.</summary>
    public int HeaderLine { get; private set; } = 1;

    /// <summary>The line where the current record starts (the header is line 1 unless blank lines precede it).</summary>
    public int Line => (int)_reader.LineNumber;

    public int FieldCount => _reader.FieldCount;

    public long ByteOffset => _reader.ByteOffset;

    /// <summary>The field's UTF-8 bytes (unquoted), empty when the record is too short; valid until the next read.</summary>
    public ReadOnlySpan<byte> GetUtf8(int index) => index < _reader.FieldCount ? _reader.GetSpan(index) : [];

    /// <summary>The field's text, "" when the record is too short.</summary>
    public string GetString(int index) => index < _reader.FieldCount ? _reader.GetString(index) ?? "" : "";

    /// <summary>Reads the header; false (with an error) when there is none or it is malformed.</summary>
    public async ValueTask<bool> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _reader.ReadHeaderAsync(cancellationToken);
        }
        catch (CsvFormatException e)
        {
            ReportUnreadable(e);
            return false;
        }

        Header = _reader.Headers.ToArray();
        HeaderLine = Math.Max(1, Line);
        if (Header.Count == 0 || (Header.Count == 1 && string.IsNullOrWhiteSpace(Header[0])))
        {
            _errors.Add(HeaderLine, null, null, "the file is empty: a header row is required");
            return false;
        }

        return ReportMalformed(HeaderLine);
    }

    /// <summary>
    /// Advances to the next record. Returns false at the end, and also after a problem that makes the rest of the
    /// file unreadable (an oversized record); <paramref name="wellFormed"/> is false for a record with structural errors.
    /// </summary>
    public async ValueTask<(bool Read, bool WellFormed)> ReadAsync(CancellationToken cancellationToken)
    {
        bool read;
        try
        {
            read = await _reader.ReadAsync(cancellationToken);
        }
        catch (CsvFormatException e)
        {
            ReportUnreadable(e);
            return (false, false);
        }

        if (!read)
        {
            return (false, false);
        }

        var wellFormed = ReportMalformed(Line);
        if (_reader.FieldCount != Header.Count)
        {
            _errors.Add(Line, null, null, $"the row has {_reader.FieldCount} fields, the header has {Header.Count}");
            wellFormed = false;
        }

        return (true, wellFormed && HasNoControlCharacters());
    }

    private bool HasNoControlCharacters()
    {
        for (var i = 0; i < _reader.FieldCount; i++)
        {
            var span = _reader.GetSpan(i);
            var at = span.IndexOfAnyInRange((byte)0, (byte)0x1F);
            while (at >= 0)
            {
                var c = span[at];
                if (c is not ((byte)'\t' or (byte)'\r' or (byte)'\n'))
                {
                    _errors.Add(Line, i < Header.Count ? Header[i] : $"field {i + 1}", GetString(i),
                        $"contains the control character U+{c:X4}");
                    return false;
                }

                var next = span[(at + 1)..].IndexOfAnyInRange((byte)0, (byte)0x1F);
                at = next < 0 ? -1 : at + 1 + next;
            }
        }

        return true;
    }

    private bool ReportMalformed(int line)
    {
        var wellFormed = true;
        foreach (var record in _malformed)
        {
            var reason = record.Reason switch
            {
                CsvMalformedReason.StrayQuote => null,
                CsvMalformedReason.TextAfterClosingQuote => "text follows the closing quote of a quoted field",
                CsvMalformedReason.UnterminatedQuote => "a quoted field is never closed",
                CsvMalformedReason.LineBreakInQuotes => "a line break inside a quoted field",
                _ => $"malformed record ({record.Reason})",
            };
            if (reason is not null)
            {
                _errors.Add(record.LineNumber > 0 ? (int)record.LineNumber : line, null, null, reason);
                wellFormed = false;
            }
        }

        _malformed.Clear();
        return wellFormed;
    }

    private void ReportUnreadable(CsvFormatException e)
    {
        var line = e.LineNumber > 0 ? (int)e.LineNumber : Math.Max(1, Line);
        _errors.Add(line, null, null, $"the file cannot be read past this line: {e.Message}");
    }

    public ValueTask DisposeAsync() => _reader.DisposeAsync();
}
