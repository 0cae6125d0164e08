using System.Text;

namespace Invisible.Ingestion.Csv;

/// <summary>
/// Picks the delimiter from the header line, the one line whose every field is text that cannot contain it
/// unquoted: the candidate that occurs most often outside quotes wins; a tie between two is ambiguous.
/// </summary>
internal static class DelimiterDetector
{
    public static readonly char[] Candidates = [',', ';', '\t'];

    private const int MaxHeaderChars = 64 * 1024;

    /// <returns>The delimiter, or null with a reason when the header line does not tell.</returns>
    public static (char? Delimiter, string? Ambiguity) Detect(Stream content, Encoding encoding)
    {
        content.Position = 0;
        using var reader = new StreamReader(content, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 16 * 1024, leaveOpen: true);
        var buffer = new char[MaxHeaderChars];
        var length = reader.ReadBlock(buffer, 0, buffer.Length);
        content.Position = 0;
        return Detect(buffer.AsSpan(0, length));
    }

    public static (char? Delimiter, string? Ambiguity) Detect(ReadOnlySpan<char> start)
    {
        Span<int> counts = stackalloc int[Candidates.Length];
        var inQuotes = false;
        var seenText = false;
        foreach (var c in start)
        {
            if (c == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (!inQuotes && c is '\r' or '\n')
            {
                if (seenText)
                {
                    break;
                }

                continue; // blank lines before the header
            }
            else if (!inQuotes && Array.IndexOf(Candidates, c) is var candidate and >= 0)
            {
                counts[candidate]++;
            }

            seenText = true;
        }

        var best = -1;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0 && (best < 0 || counts[i] > counts[best]))
            {
                best = i;
            }
        }

        if (best < 0)
        {
            return (',', null); // a single column: any delimiter reads it the same
        }

        for (var i = 0; i < counts.Length; i++)
        {
            if (i != best && counts[i] == counts[best])
            {
                return (null, $"the header line has {counts[best]} × {Describe(Candidates[best])} and {counts[i]} × {Describe(Candidates[i])}");
            }
        }

        return (Candidates[best], null);
    }

    public static string Describe(char delimiter) => delimiter switch
    {
        '\t' => "tab",
        ';' => "';'",
        ',' => "','",
        _ => $"'{delimiter}'",
    };
}
