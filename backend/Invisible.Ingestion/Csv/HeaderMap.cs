using System.Text;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion.Csv;

/// <summary>
/// Where each canonical column is in a file. Header names match ignoring case, spaces and punctuation
/// ("Invoice No." = "invoice_no" = "INVOICE NO"); '#' reads as "no" ("Inv #" = "Inv No").
/// </summary>
internal sealed class HeaderMap
{
    private readonly int[] _fieldIndexByOrdinal;

    private HeaderMap(DocumentSchema schema, int[] fieldIndexByOrdinal)
    {
        Schema = schema;
        _fieldIndexByOrdinal = fieldIndexByOrdinal;
    }

    public DocumentSchema Schema { get; }

    /// <summary>The 0-based field index of <paramref name="column"/>, or -1 when the file does not have it.</summary>
    public int FieldIndex(Column column) => _fieldIndexByOrdinal[column.Ordinal];

    /// <summary>Resolves the header; unknown columns are warnings, missing required columns and clashes are errors.</summary>
    /// <returns>The map, or null when errors were added.</returns>
    public static HeaderMap? Resolve(
        DocumentSchema schema,
        IReadOnlyList<string> header,
        IReadOnlyDictionary<string, string>? tenantMapping,
        int headerLine,
        ErrorCollector errors)
    {
        var errorsBefore = errors.TotalCount;
        var lookup = BuildLookup(schema, tenantMapping, headerLine, errors);
        var fieldIndex = Enumerable.Repeat(-1, schema.Columns.Count).ToArray();
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i];
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add(headerLine, null, name, $"column {i + 1} of the header has no name");
                continue;
            }

            if (!lookup.TryGetValue(Normalize(name), out var column))
            {
                errors.Warn(headerLine, name, $"unknown column '{ErrorCollector.Sanitize(name)}' is ignored");
                continue;
            }

            if (fieldIndex[column.Ordinal] >= 0)
            {
                errors.Add(headerLine, name, name,
                    $"columns '{ErrorCollector.Sanitize(header[fieldIndex[column.Ordinal]])}' and '{ErrorCollector.Sanitize(name)}' both mean {column.Name}");
                continue;
            }

            fieldIndex[column.Ordinal] = i;
        }

        foreach (var column in schema.Columns.Where(c => c.Required && fieldIndex[c.Ordinal] < 0))
        {
            errors.Add(headerLine, column.Name, null,
                $"required column {column.Name} is missing (also accepted: {string.Join(", ", column.Synonyms)})");
        }

        return errors.TotalCount > errorsBefore ? null : new HeaderMap(schema, fieldIndex);
    }

    private static Dictionary<string, Column> BuildLookup(
        DocumentSchema schema,
        IReadOnlyDictionary<string, string>? tenantMapping,
        int headerLine,
        ErrorCollector errors)
    {
        var lookup = new Dictionary<string, Column>(StringComparer.Ordinal);
        foreach (var column in schema.Columns)
        {
            foreach (var name in column.Synonyms.Prepend(column.Name))
            {
                lookup.TryAdd(Normalize(name), column);
            }
        }

        // The tenant's mapping comes last so that it overrides a built-in synonym ("Date" may be their delivery date).
        foreach (var (fileHeader, canonicalName) in tenantMapping ?? new Dictionary<string, string>())
        {
            var column = schema.Columns.FirstOrDefault(c => Normalize(c.Name) == Normalize(canonicalName));
            if (column is null)
            {
                errors.Add(headerLine, fileHeader, canonicalName,
                    $"the column mapping names '{canonicalName}', which is not a column of {schema.Kind} files");
                continue;
            }

            lookup[Normalize(fileHeader)] = column;
        }

        return lookup;
    }

    /// <summary>Lower-case letters and digits only, with '#' read as "no".</summary>
    public static string Normalize(string headerName)
    {
        var builder = new StringBuilder(headerName.Length + 2);
        foreach (var c in headerName)
        {
            if (char.IsLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
            else if (c == '#')
            {
                builder.Append("no");
            }
        }

        return builder.ToString();
    }
}
