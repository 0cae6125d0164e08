using System.Globalization;
using System.Text;

namespace Invisible.Ingestion;

/// <summary>
/// What the caller knows about a file. Everything left null is detected from the file; a detection that is not
/// unambiguous is an error that asks for the corresponding option.
/// </summary>
public sealed record ImportOptions
{
    public static ImportOptions Default { get; } = new();

    /// <summary>Culture of numbers (decimal and group separator) and, when <see cref="DateFormat"/> is not set, the day/month order of dates.</summary>
    public CultureInfo? Culture { get; init; }

    /// <summary>Field delimiter: ',', ';' or '\t'.</summary>
    public char? Delimiter { get; init; }

    /// <summary>Text encoding; a byte order mark in the file still wins.</summary>
    public Encoding? Encoding { get; init; }

    /// <summary>Exact date format such as "dd.MM.yyyy"; ISO dates (yyyy-MM-dd) are always accepted too.</summary>
    public string? DateFormat { get; init; }

    /// <summary>
    /// A tenant's own header names mapped to canonical column names (e.g. "Beleg-Nr" → "invoice_number"). Matched like
    /// the built-in synonyms (case, spaces and punctuation ignored) and checked before them.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ColumnMapping { get; init; }

    /// <summary>How many errors are listed; the rest are only counted.</summary>
    public int MaxErrors { get; init; } = 1_000;

    /// <summary>Rows handed to the sink at a time, and the unit of reference look-ups.</summary>
    public int BatchSize { get; init; } = 4_096;

    /// <summary>The largest CSV record accepted, which stops an unclosed quote from swallowing a large file.</summary>
    public int MaxRecordBytes { get; init; } = 1 << 20;

    /// <summary>The largest XML (UBL, CII) document accepted, also when embedded in a PDF.</summary>
    public long MaxXmlBytes { get; init; } = 20L << 20;

    /// <summary>The largest PDF (Factur-X, ZUGFeRD, XRechnung hybrid) accepted.</summary>
    public long MaxPdfBytes { get; init; } = 50L << 20;

    /// <summary>
    /// The options as people and other systems write them (command line, API): a culture name such as de-DE; a delimiter
    /// ',', ';', or tab written as <c>tab</c>, <c>\t</c> or the character itself (case ignored); any date format; an encoding
    /// name such as windows-1252. Null or empty leaves an option to detection. Every value that cannot be used is reported.
    /// </summary>
    public static ImportOptionsParse Parse(string? culture, string? delimiter, string? dateFormat, string? encoding)
    {
        var errors = new List<ImportOptionError>();
        var parsedCulture = IsUnset(culture) ? null : FindCulture(culture);
        if (!IsUnset(culture) && parsedCulture is null)
        {
            errors.Add(new ImportOptionError(ImportOption.Culture, culture, "is not a known culture; use a name such as de-DE or en-US"));
        }

        var parsedDelimiter = IsUnset(delimiter) ? null : FindDelimiter(delimiter);
        if (!IsUnset(delimiter) && parsedDelimiter is null)
        {
            errors.Add(new ImportOptionError(ImportOption.Delimiter, delimiter, "is not supported; use ',', ';' or tab"));
        }

        var parsedEncoding = IsUnset(encoding) ? null : FindEncoding(encoding);
        if (!IsUnset(encoding) && parsedEncoding is null)
        {
            errors.Add(new ImportOptionError(ImportOption.Encoding, encoding, "is not a known text encoding; use e.g. utf-8 or windows-1252"));
        }

        return errors.Count > 0
            ? new ImportOptionsParse(null, errors)
            : new ImportOptionsParse(
                new ImportOptions { Culture = parsedCulture, Delimiter = parsedDelimiter, DateFormat = IsUnset(dateFormat) ? null : dateFormat, Encoding = parsedEncoding },
                []);
    }

    private static bool IsUnset([System.Diagnostics.CodeAnalysis.NotNullWhen(false)] string? value) => string.IsNullOrEmpty(value);

    private static CultureInfo? FindCulture(string name)
    {
        try
        {
            return CultureInfo.GetCultureInfo(name, predefinedOnly: true);
        }
        catch (CultureNotFoundException)
        {
            return null;
        }
    }

    // People cannot type a tab into most forms and shells, so it has names.
    private static char? FindDelimiter(string value) => value switch
    {
        "," or ";" or "\t" => value[0],
        _ when value.Equals("tab", StringComparison.OrdinalIgnoreCase) || value.Equals("\\t", StringComparison.OrdinalIgnoreCase) => '\t',
        _ => null,
    };

    private static Encoding? FindEncoding(string name)
    {
        try
        {
            // Windows code pages (e.g. windows-1252) are an optional provider in .NET; registering twice is harmless.
            Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>The import options a caller may set by name (<see cref="ImportOptions.Parse"/>).</summary>
public enum ImportOption
{
    Culture,
    Delimiter,
    Encoding,
}

/// <summary>A value given for <paramref name="Option"/> that cannot be used.</summary>
/// <param name="Problem">Says what is wrong and what to give instead; reads after the quoted value: <c>'x' is not supported; ...</c>.</param>
public sealed record ImportOptionError(ImportOption Option, string Value, string Problem);

/// <summary>The outcome of <see cref="ImportOptions.Parse"/>: the options, or (null options) every value that cannot be used.</summary>
public sealed record ImportOptionsParse(ImportOptions? Options, IReadOnlyList<ImportOptionError> Errors);
