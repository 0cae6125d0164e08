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

    /// <summary>The largest XML (UBL) document accepted.</summary>
    public long MaxXmlBytes { get; init; } = 20L << 20;
}
