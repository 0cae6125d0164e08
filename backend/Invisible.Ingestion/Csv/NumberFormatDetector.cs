using System.Globalization;
using System.Text;

namespace Invisible.Ingestion.Csv;

/// <summary>How the numbers of a file are written: the decimal separator, and the group separator it implies.</summary>
internal sealed record NumberStyleChoice(char DecimalSeparator, char GroupSeparator)
{
    public static NumberStyleChoice DotDecimal { get; } = new('.', ',');
    public static NumberStyleChoice CommaDecimal { get; } = new(',', '.');

    public static NumberStyleChoice From(CultureInfo culture) =>
        culture.NumberFormat.NumberDecimalSeparator == "," ? CommaDecimal : DotDecimal;
}

/// <summary>
/// Learns the decimal separator from every number of a file. "1.234,56", "3,5" and "1.234.567" prove a decimal
/// comma; "1,234.56", "3.18" and "1,234,567" a decimal point. "1,234" or "1.234" alone could be either.
/// </summary>
internal sealed class NumberFormatDetector
{
    private const int ExampleLines = 5;

    /// <summary>Longer values are no numbers; validation reports them.</summary>
    private const int MaxNumberChars = 64;
    private readonly Evidence _dot = new();
    private readonly Evidence _comma = new();
    private readonly Evidence _ambiguous = new();

    /// <summary>Takes the field's UTF-8 bytes, so that scanning a large file creates no string per value.</summary>
    public void Observe(ReadOnlySpan<byte> utf8, string column, int line)
    {
        Span<char> buffer = stackalloc char[MaxNumberChars];
        if (utf8.Length <= MaxNumberChars && Encoding.UTF8.TryGetChars(utf8, buffer, out var length))
        {
            Observe(buffer[..length], column, line);
        }
    }

    public void Observe(ReadOnlySpan<char> value, string column, int line)
    {
        value = value.Trim();
        if (value.IsEmpty)
        {
            return;
        }

        switch (Classify(value))
        {
            case Reading.DotDecimal:
                _dot.Add(column, line, value);
                break;
            case Reading.CommaDecimal:
                _comma.Add(column, line, value);
                break;
            case Reading.Ambiguous:
                _ambiguous.Add(column, line, value);
                break;
        }
    }

    /// <returns>The style, or null with the reason it cannot be told.</returns>
    public (NumberStyleChoice? Style, string? Column, string? Problem) Decide()
    {
        if (_dot.Count > 0 && _comma.Count > 0)
        {
            return (null, _comma.FirstColumn,
                $"numbers use a decimal comma (e.g. '{_comma.FirstValue}' on lines {_comma.Lines}) and a decimal point " +
                $"(e.g. '{_dot.FirstValue}' in {_dot.FirstColumn} on lines {_dot.Lines}); fix the file or pass the culture");
        }

        if (_comma.Count > 0)
        {
            return (NumberStyleChoice.CommaDecimal, null, null);
        }

        if (_dot.Count > 0 || _ambiguous.Count == 0)
        {
            return (NumberStyleChoice.DotDecimal, null, null);
        }

        return (null, _ambiguous.FirstColumn,
            $"'{_ambiguous.FirstValue}' (lines {_ambiguous.Lines}) could be a decimal or a thousands separator; pass the culture");
    }

    private enum Reading
    {
        NoSeparator,
        DotDecimal,
        CommaDecimal,
        Ambiguous,
    }

    private static Reading Classify(ReadOnlySpan<char> value)
    {
        var lastDot = value.LastIndexOf('.');
        var lastComma = value.LastIndexOf(',');
        if (lastDot < 0 && lastComma < 0)
        {
            return Reading.NoSeparator;
        }

        if (lastDot >= 0 && lastComma >= 0)
        {
            return lastDot > lastComma ? Reading.DotDecimal : Reading.CommaDecimal;
        }

        var separator = lastDot >= 0 ? '.' : ',';
        var position = Math.Max(lastDot, lastComma);
        var repeated = value.IndexOf(separator) != position;
        var whenDecimal = separator == '.' ? Reading.DotDecimal : Reading.CommaDecimal;
        var whenGroup = separator == '.' ? Reading.CommaDecimal : Reading.DotDecimal;
        if (repeated)
        {
            return whenGroup; // only a group separator can occur twice
        }

        var integerDigits = value[..position].TrimStart("+-");
        var fractionDigits = value.Length - position - 1;
        var couldBeGroup = fractionDigits == 3 && integerDigits.Length is >= 1 and <= 3 && integerDigits[0] != '0';
        return couldBeGroup ? Reading.Ambiguous : whenDecimal;
    }

    private sealed class Evidence
    {
        private readonly List<int> _lines = [];

        public int Count { get; private set; }
        public string? FirstColumn { get; private set; }
        public string? FirstValue { get; private set; }
        public string Lines => string.Join(", ", _lines) + (Count > _lines.Count ? $" and {Count - _lines.Count} more" : "");

        public void Add(string column, int line, ReadOnlySpan<char> value)
        {
            Count++;
            if (FirstColumn is null)
            {
                FirstColumn = column;
                FirstValue = value.ToString();
            }

            if (_lines.Count < ExampleLines && column == FirstColumn)
            {
                _lines.Add(line);
            }
        }
    }
}
