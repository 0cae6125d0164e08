using System.Text;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Csv;

/// <summary>
/// Typed access to the canonical columns of the current record. A missing required value or a value of the wrong
/// type is reported (line, column, value, reason) and marks the row <see cref="Failed"/>; reading goes on, so that
/// one pass reports every problem of the row.
/// </summary>
internal sealed class RowFields(CsvRecordReader record, HeaderMap map, ValueParser parser, ErrorCollector errors)
{
    public int Line { get; private set; }
    public bool Failed { get; private set; }

    internal void MoveTo(int line)
    {
        Line = line;
        Failed = false;
    }

    /// <summary>The trimmed text, or null when empty or the column is absent.</summary>
    public string? Text(Column column)
    {
        var raw = RawText(column);
        var text = raw?.Trim();
        return string.IsNullOrEmpty(text) ? null : text;
    }

    /// <summary>The text exactly as printed (not trimmed), or null when blank or the column is absent.</summary>
    public string? Printed(Column column)
    {
        var raw = RawText(column);
        return string.IsNullOrWhiteSpace(raw) ? null : raw;
    }

    /// <summary>Upper-cased code (currency, country) or null.</summary>
    public string? Code(Column column) => Text(column)?.ToUpperInvariant();

    /// <summary>The text, or "" with the row marked failed: the row is discarded, so the placeholder never escapes.</summary>
    public string RequiredText(Column column) => Text(column) ?? ReportMissing(column);

    public string RequiredPrinted(Column column) => Printed(column) ?? ReportMissing(column);

    public string RequiredCode(Column column) => Code(column) ?? ReportMissing(column);

    public decimal? Number(Column column) =>
        Parse<decimal>(column, static (parser, utf8, out value) => parser.TryParseDecimal(utf8, out value), NotANumber);

    public int? WholeNumber(Column column) =>
        Parse<int>(column, static (_, utf8, out value) => ValueParser.TryParseInteger(utf8, out value), static _ => "not a whole number");

    public DateOnly? Date(Column column) =>
        Parse<DateOnly>(column, static (parser, utf8, out value) => parser.TryParseDate(utf8, out value), NotADate);

    public bool? YesNo(Column column) =>
        Parse<bool>(column, static (_, utf8, out value) => ValueParser.TryParseBoolean(Encoding.UTF8.GetString(utf8), out value),
            static _ => "not true/false (or yes/no, 1/0)");

    private static string NotANumber(ValueParser parser) => $"not a number (decimal separator '{parser.Numbers.DecimalSeparator}')";

    private static string NotADate(ValueParser parser) => $"not a date in the format {string.Join(" or ", parser.DateFormats)}";

    private delegate bool TryParseUtf8<T>(ValueParser parser, ReadOnlySpan<byte> utf8, out T value);

    /// <summary>Parses straight from the field's UTF-8 bytes: a million-row file then creates no string per number.</summary>
    private T? Parse<T>(Column column, TryParseUtf8<T> tryParse, Func<ValueParser, string> reason) where T : struct
    {
        var index = map.FieldIndex(column);
        var utf8 = index < 0 ? [] : record.GetUtf8(index);
        if (utf8.Trim((byte)' ').IsEmpty)
        {
            if (column.Required)
            {
                ReportMissing(column);
            }

            return null;
        }

        if (tryParse(parser, utf8, out var value))
        {
            return value;
        }

        Fail(column, record.GetString(index), reason(parser));
        return null;
    }

    private string? RawText(Column column)
    {
        var index = map.FieldIndex(column);
        return index < 0 ? null : record.GetString(index);
    }

    private string ReportMissing(Column column)
    {
        Fail(column, null, "is required");
        return "";
    }

    private void Fail(Column column, string? value, string reason)
    {
        Failed = true;
        errors.Add(Line, column.Name, value, reason);
    }
}
