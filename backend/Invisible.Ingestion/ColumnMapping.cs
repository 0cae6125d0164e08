using Invisible.Ingestion.Csv;

namespace Invisible.Ingestion;

/// <summary>
/// A tenant's own header names mapped to canonical columns (e.g. "Beleg-Nr" → invoice_number), for files whose headers
/// neither match FORMATS.md nor a built-in synonym. Saved per tenant and kind of file and applied to later imports
/// (<see cref="ImportOptions.ColumnMapping"/>). Header names are kept normalised, as the importer matches them: case,
/// spaces and punctuation ignored, '#' read as "no".
/// </summary>
public static class ColumnMapping
{
    public const int MaxEntries = 100;
    public const int MaxHeaderLength = 200;

    /// <summary>The canonical column names of a kind of file, in FORMATS.md order.</summary>
    public static IReadOnlyList<string> CanonicalColumns(DocumentKind kind) => DocumentSchema.For(kind).Columns.Select(c => c.Name).ToList();

    /// <summary>The form a header name is saved and matched in.</summary>
    public static string NormalizeHeader(string header) => HeaderMap.Normalize(header);

    /// <summary>
    /// Checks a mapping and returns it normalised (headers normalised, canonical names as in FORMATS.md), or the
    /// problems, each naming the entry: an empty header, a canonical column this kind of file does not have, two
    /// headers that become the same once normalised, too many entries.
    /// </summary>
    public static (IReadOnlyDictionary<string, string>? Mapping, IReadOnlyList<string> Problems) Validate(
        DocumentKind kind, IEnumerable<KeyValuePair<string, string>> entries)
    {
        var schema = DocumentSchema.For(kind);
        var problems = new List<string>();
        var mapping = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (header, canonical) in entries)
        {
            var normalised = NormalizeHeader(header ?? "");
            var column = schema.Columns.FirstOrDefault(c => HeaderMap.Normalize(c.Name) == HeaderMap.Normalize(canonical ?? ""));
            if (normalised.Length == 0 || header!.Length > MaxHeaderLength)
            {
                problems.Add($"'{header}': a header name needs a letter or digit and at most {MaxHeaderLength} characters");
            }
            else if (column is null)
            {
                problems.Add($"'{header}' → '{canonical}': {kind} files have no such column; use one of {string.Join(", ", schema.Columns.Select(c => c.Name))}");
            }
            else if (!mapping.TryAdd(normalised, column.Name))
            {
                problems.Add($"'{header}' is mapped twice (headers match ignoring case, spaces and punctuation)");
            }
        }

        if (mapping.Count > MaxEntries)
        {
            problems.Add($"at most {MaxEntries} headers can be mapped");
        }

        return problems.Count == 0 ? (mapping, problems) : (null, problems);
    }
}
