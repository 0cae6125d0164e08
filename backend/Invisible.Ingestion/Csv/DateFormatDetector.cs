using System.Globalization;
using System.Text;

namespace Invisible.Ingestion.Csv;

/// <summary>
/// Learns the date format of a file from every date in it. ISO (yyyy-MM-dd) and dotted (dd.MM.yyyy) dates tell
/// themselves apart; a slashed date tells its day/month order only when one part is above 12, so a file whose
/// slashed dates all read both ways is ambiguous unless a culture or format is given.
/// </summary>
internal sealed class DateFormatDetector
{
    public const string Iso = "yyyy-MM-dd";
    public const string DayMonthDotted = "d.M.yyyy";
    public const string MonthDaySlashed = "M/d/yyyy";
    public const string DayMonthSlashed = "d/M/yyyy";

    private const int ExampleLines = 5;
    private const int MaxDateChars = 32;
    private bool _dotted;
    private readonly List<(string Column, int Line, string Value)> _monthFirst = [];
    private readonly List<(string Column, int Line, string Value)> _dayFirst = [];
    private readonly List<(string Column, int Line, string Value)> _eitherOrder = [];
    private int _eitherOrderCount;

    /// <summary>Takes the field's UTF-8 bytes; only the date characters matter, which are ASCII.</summary>
    public void Observe(ReadOnlySpan<byte> utf8, string column, int line)
    {
        Span<char> buffer = stackalloc char[MaxDateChars];
        if (utf8.Length <= MaxDateChars && Encoding.UTF8.TryGetChars(utf8, buffer, out var length))
        {
            Observe(buffer[..length], column, line);
        }
    }

    public void Observe(ReadOnlySpan<char> value, string column, int line)
    {
        var text = value.Trim();
        if (text.IsEmpty || text.Contains('-'))
        {
            return; // ISO, or no date: validation tells
        }

        if (text.Contains('.'))
        {
            _dotted = true;
            return;
        }

        Span<Range> parts = stackalloc Range[4];
        if (text.Split(parts, '/') != 3
            || !int.TryParse(text[parts[0]], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(text[parts[1]], NumberStyles.None, CultureInfo.InvariantCulture, out var second))
        {
            return; // not a slashed date: validation reports it if it is no date at all
        }

        if (first > 12 && second <= 12)
        {
            Remember(_dayFirst, column, line, text);
        }
        else if (second > 12 && first <= 12)
        {
            Remember(_monthFirst, column, line, text);
        }
        else if (first <= 12 && second <= 12)
        {
            _eitherOrderCount++;
            Remember(_eitherOrder, column, line, text);
        }
    }

    /// <returns>The formats to accept, in order, or null with the reason the order of slashed dates cannot be told.</returns>
    public (IReadOnlyList<string>? Formats, string? Column, string? Problem) Decide(CultureInfo? culture)
    {
        var formats = new List<string> { Iso };
        if (_dotted)
        {
            formats.Add(DayMonthDotted);
        }

        if (_dayFirst.Count > 0 && _monthFirst.Count > 0)
        {
            return (null, _dayFirst[0].Column,
                $"slashed dates are day-first on lines {Lines(_dayFirst)} ('{_dayFirst[0].Value}') but month-first on lines {Lines(_monthFirst)} ('{_monthFirst[0].Value}')");
        }

        if (_dayFirst.Count > 0)
        {
            formats.Add(DayMonthSlashed);
        }
        else if (_monthFirst.Count > 0)
        {
            formats.Add(MonthDaySlashed);
        }
        else if (_eitherOrderCount > 0)
        {
            if (culture is null)
            {
                return (null, _eitherOrder[0].Column,
                    $"dates such as '{_eitherOrder[0].Value}' on lines {Lines(_eitherOrder)}{(_eitherOrderCount > _eitherOrder.Count ? $" and {_eitherOrderCount - _eitherOrder.Count} more" : "")} read as day/month and as month/day; pass the culture or the date format");
            }

            formats.Add(culture.DateTimeFormat.ShortDatePattern.TrimStart().StartsWith('M') ? MonthDaySlashed : DayMonthSlashed);
        }

        return (formats, null, null);
    }

    private static void Remember(List<(string, int, string)> examples, string column, int line, ReadOnlySpan<char> value)
    {
        if (examples.Count < ExampleLines)
        {
            examples.Add((column, line, value.ToString()));
        }
    }

    private static string Lines(List<(string Column, int Line, string Value)> examples) =>
        string.Join(", ", examples.Select(e => e.Line));
}
