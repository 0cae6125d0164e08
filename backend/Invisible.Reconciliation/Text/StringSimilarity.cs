namespace Invisible.Reconciliation.Text;

/// <summary>Classic string comparisons: similarities in [0, 1] where 1 means equal, and a typist's edit distance.</summary>
public static class StringSimilarity
{
    public static double JaroWinkler(string first, string second)
    {
        if (first.Length == 0 && second.Length == 0)
        {
            return 1;
        }

        if (first.Length == 0 || second.Length == 0)
        {
            return 0;
        }

        var window = Math.Max(0, Math.Max(first.Length, second.Length) / 2 - 1);
        Span<bool> firstMatched = first.Length <= 256 ? stackalloc bool[first.Length] : new bool[first.Length];
        Span<bool> secondMatched = second.Length <= 256 ? stackalloc bool[second.Length] : new bool[second.Length];
        var matches = 0;
        for (var i = 0; i < first.Length; i++)
        {
            var from = Math.Max(0, i - window);
            var to = Math.Min(second.Length - 1, i + window);
            for (var j = from; j <= to; j++)
            {
                if (!secondMatched[j] && first[i] == second[j])
                {
                    firstMatched[i] = secondMatched[j] = true;
                    matches++;
                    break;
                }
            }
        }

        if (matches == 0)
        {
            return 0;
        }

        var transpositions = 0;
        var k = 0;
        for (var i = 0; i < first.Length; i++)
        {
            if (!firstMatched[i])
            {
                continue;
            }

            while (!secondMatched[k])
            {
                k++;
            }

            if (first[i] != second[k])
            {
                transpositions++;
            }

            k++;
        }

        double m = matches;
        var jaro = (m / first.Length + m / second.Length + (m - transpositions / 2.0) / m) / 3.0;
        var prefix = 0;
        while (prefix < Math.Min(4, Math.Min(first.Length, second.Length)) && first[prefix] == second[prefix])
        {
            prefix++;
        }

        return jaro + prefix * 0.1 * (1 - jaro);
    }

    /// <summary>
    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours, each costing one,
    /// which are the slips of a typist. Stops early and returns <paramref name="limit"/> + 1 once the distance exceeds it.
    /// </summary>
    public static int TypingDistance(string first, string second, int limit)
    {
        if (Math.Abs(first.Length - second.Length) > limit)
        {
            return limit + 1;
        }

        var width = second.Length + 1;
        Span<int> rows = width * 3 <= 768 ? stackalloc int[width * 3] : new int[width * 3];
        var previousPrevious = rows[..width];
        var previous = rows.Slice(width, width);
        var current = rows.Slice(2 * width, width);
        for (var j = 0; j <= second.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= first.Length; i++)
        {
            current[0] = i;
            var rowMinimum = current[0];
            for (var j = 1; j <= second.Length; j++)
            {
                var cost = first[i - 1] == second[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && first[i - 1] == second[j - 2] && first[i - 2] == second[j - 1])
                {
                    current[j] = Math.Min(current[j], previousPrevious[j - 2] + 1);
                }

                rowMinimum = Math.Min(rowMinimum, current[j]);
            }

            if (rowMinimum > limit)
            {
                return limit + 1;
            }

            var recycled = previousPrevious;
            previousPrevious = previous;
            previous = current;
            current = recycled;
        }

        return previous[second.Length];
    }

    /// <summary>Dice coefficient of two trigram sets made by <see cref="Trigrams"/>: robust to typos and word order.</summary>
    public static double TrigramDice(IReadOnlySet<string> first, IReadOnlySet<string> second)
    {
        if (first.Count == 0 && second.Count == 0)
        {
            return 1;
        }

        var shared = 0;
        foreach (var gram in first)
        {
            shared += second.Contains(gram) ? 1 : 0;
        }

        return 2.0 * shared / (first.Count + second.Count);
    }

    /// <summary>
    /// <see cref="TrigramDice(IReadOnlySet{string}, IReadOnlySet{string})"/> of two sets made by <see cref="TrigramCodes"/>:
    /// the same value, by merging two sorted arrays instead of hashing every trigram string.
    /// </summary>
    internal static double TrigramDice(long[] first, long[] second)
    {
        if (first.Length == 0 && second.Length == 0)
        {
            return 1;
        }

        return 2.0 * SharedCodes(first, second) / (first.Length + second.Length);
    }

    /// <summary>How many codes two sorted, distinct code arrays have in common.</summary>
    internal static int SharedCodes(long[] first, long[] second)
    {
        int i = 0, j = 0, shared = 0;
        while (i < first.Length && j < second.Length)
        {
            var order = first[i].CompareTo(second[j]);
            shared += order == 0 ? 1 : 0;
            i += order <= 0 ? 1 : 0;
            j += order >= 0 ? 1 : 0;
        }

        return shared;
    }

    /// <summary>
    /// The distinct trigrams of <see cref="Trigrams"/>, each as its three UTF-16 code units packed in a long (so equal codes
    /// mean equal trigrams), sorted: a few hundred bytes instead of a set of strings, and cheap to compare.
    /// </summary>
    internal static long[] TrigramCodes(string text)
    {
        // The text padded as Trigrams pads it: two spaces in front, one behind.
        var codes = new long[text.Length + 1];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = TrigramCode(Padded(text, i), Padded(text, i + 1), Padded(text, i + 2));
        }

        Array.Sort(codes);
        var distinct = codes.Length == 0 ? 0 : 1;
        for (var i = 1; i < codes.Length; i++)
        {
            if (codes[i] != codes[distinct - 1])
            {
                codes[distinct++] = codes[i];
            }
        }

        return distinct == codes.Length ? codes : codes[..distinct];
    }

    private static long TrigramCode(char first, char second, char third) => ((long)first << 32) | ((long)second << 16) | third;

    /// <summary>Character <paramref name="index"/> of <c>"  " + text + " "</c>, without making that string.</summary>
    private static char Padded(string text, int index) => index < 2 || index - 2 >= text.Length ? ' ' : text[index - 2];

    /// <summary>Character trigrams of the text padded with two spaces in front and one behind, so word starts count more.</summary>
    public static HashSet<string> Trigrams(string text)
    {
        var padded = $"  {text} ";
        var grams = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i + 3 <= padded.Length; i++)
        {
            grams.Add(padded.Substring(i, 3));
        }

        return grams;
    }
}
