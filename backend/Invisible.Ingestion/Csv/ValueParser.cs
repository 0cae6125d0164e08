using System.Globalization;
using System.Text;

namespace Invisible.Ingestion.Csv;

/// <summary>Parses field text with the number and date formats decided for a file.</summary>
internal sealed class ValueParser(NumberStyleChoice numbers, IReadOnlyList<string> dateFormats)
{
    private const int MaxCharsOnStack = 64;
    private static readonly byte[] AsciiBlanks = [(byte)' ', (byte)'\t'];
    private const NumberStyles PlainDecimal = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;
    private readonly string[] _dateFormats = [.. dateFormats];
    private readonly NumberFormatInfo _numberFormat = new()
    {
        NumberDecimalSeparator = numbers.DecimalSeparator.ToString(),
        NumberGroupSeparator = numbers.GroupSeparator.ToString(),
        NegativeSign = "-",
        PositiveSign = "+",
    };

    public NumberStyleChoice Numbers => numbers;
    public IReadOnlyList<string> DateFormats => _dateFormats;

    /// <summary>
    /// A decimal with an optional sign; group separators are accepted only in proper groups of three
    /// ("1.234.567,5"), so that a stray separator ("1,5" in a decimal-point file) is an error, not a silent 15.
    /// </summary>
    public bool TryParseDecimal(ReadOnlySpan<char> text, out decimal value)
    {
        text = text.Trim();
        if (!text.Contains(numbers.GroupSeparator))
        {
            return decimal.TryParse(text, PlainDecimal, _numberFormat, out value);
        }

        Span<char> ungrouped = text.Length <= 64 ? stackalloc char[text.Length] : new char[text.Length];
        var length = 0;
        var decimalAt = text.IndexOf(numbers.DecimalSeparator);
        var integerPart = decimalAt < 0 ? text : text[..decimalAt];
        var digitsSinceGroup = 0;
        var seenGroup = false;
        foreach (var c in integerPart)
        {
            if (c == numbers.GroupSeparator)
            {
                if ((seenGroup && digitsSinceGroup != 3) || digitsSinceGroup is 0 or > 3)
                {
                    value = 0;
                    return false;
                }

                seenGroup = true;
                digitsSinceGroup = 0;
                continue;
            }

            if (char.IsAsciiDigit(c))
            {
                digitsSinceGroup++;
            }

            ungrouped[length++] = c;
        }

        if (digitsSinceGroup != 3)
        {
            value = 0;
            return false;
        }

        if (decimalAt >= 0)
        {
            text[decimalAt..].CopyTo(ungrouped[length..]);
            length += text.Length - decimalAt;
        }

        return decimal.TryParse(ungrouped[..length], PlainDecimal, _numberFormat, out value);
    }

    /// <summary>As <see cref="TryParseDecimal(ReadOnlySpan{char}, out decimal)"/>, straight from UTF-8 in the usual case of no group separator.</summary>
    public bool TryParseDecimal(ReadOnlySpan<byte> utf8, out decimal value)
    {
        utf8 = utf8.Trim(AsciiBlanks);
        if (utf8.Contains((byte)numbers.GroupSeparator) || utf8.Length > MaxCharsOnStack)
        {
            return TryParseDecimal(Encoding.UTF8.GetString(utf8), out value);
        }

        return decimal.TryParse(utf8, PlainDecimal, _numberFormat, out value);
    }

    public static bool TryParseInteger(ReadOnlySpan<byte> utf8, out int value) =>
        int.TryParse(utf8.Trim(AsciiBlanks), NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>ISO dates, by far the most common, are read without decoding; other formats go through the char parser.</summary>
    public bool TryParseDate(ReadOnlySpan<byte> utf8, out DateOnly value)
    {
        utf8 = utf8.Trim(AsciiBlanks);
        if (TryParseIsoDate(utf8, out value))
        {
            return true;
        }

        if (utf8.Length > MaxCharsOnStack)
        {
            return false;
        }

        Span<char> chars = stackalloc char[MaxCharsOnStack];
        return Encoding.UTF8.TryGetChars(utf8, chars, out var length) && TryParseDate(chars[..length], out value);
    }

    private static bool TryParseIsoDate(ReadOnlySpan<byte> utf8, out DateOnly value)
    {
        value = default;
        if (utf8.Length != 10 || utf8[4] != (byte)'-' || utf8[7] != (byte)'-'
            || !int.TryParse(utf8[..4], NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            || !int.TryParse(utf8[5..7], NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            || !int.TryParse(utf8[8..], NumberStyles.None, CultureInfo.InvariantCulture, out var day)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        value = new DateOnly(year, month, day);
        return true;
    }

    public bool TryParseDate(ReadOnlySpan<char> text, out DateOnly value) =>
        DateOnly.TryParseExact(text.Trim(), _dateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);

    /// <summary>true/false, yes/no, y/n, 1/0, case-insensitive.</summary>
    public static bool TryParseBoolean(ReadOnlySpan<char> text, out bool value)
    {
        text = text.Trim();
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("yes", StringComparison.OrdinalIgnoreCase)
            || text.Equals("y", StringComparison.OrdinalIgnoreCase) || text.SequenceEqual("1"))
        {
            value = true;
            return true;
        }

        value = false;
        return text.Equals("false", StringComparison.OrdinalIgnoreCase) || text.Equals("no", StringComparison.OrdinalIgnoreCase)
            || text.Equals("n", StringComparison.OrdinalIgnoreCase) || text.SequenceEqual("0");
    }
}
