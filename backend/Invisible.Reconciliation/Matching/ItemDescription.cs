using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Matching;

/// <summary>
/// An item description prepared for comparison. Numbers are part of an item's identity (<c>2.5 mm2</c> is not <c>4 mm2</c>),
/// so two descriptions whose numbers differ never pair however alike the words are.
/// </summary>
internal sealed class ItemDescription
{
    // Most descriptions are only ever compared by key (SKUs decide most pairings), so trigrams are made on first need,
    // as sorted codes (three chars packed in a long): a few hundred bytes per PO line instead of a set of strings.
    private long[]? trigramCodes;

    private ItemDescription(string key, string numbers)
    {
        Key = key;
        Numbers = numbers;
    }

    public string Key { get; }

    private string Numbers { get; }

    public static ItemDescription Parse(string description)
    {
        var key = string.Join(' ', Normalize.Words(description));
        var numbers = string.Join(',', NumberRuns(key).Order(StringComparer.Ordinal));
        return new ItemDescription(key, numbers);
    }

    /// <summary>1 for the same description, 0 when numbers differ, else the character-trigram Dice coefficient.</summary>
    public double SimilarityTo(ItemDescription other)
    {
        if (Key == other.Key)
        {
            return 1;
        }

        if (Numbers != other.Numbers)
        {
            return 0;
        }

        var (mine, theirs) = (TrigramCodes, other.TrigramCodes);
        int i = 0, j = 0, shared = 0;
        while (i < mine.Length && j < theirs.Length)
        {
            var order = mine[i].CompareTo(theirs[j]);
            shared += order == 0 ? 1 : 0;
            i += order <= 0 ? 1 : 0;
            j += order >= 0 ? 1 : 0;
        }

        return 2.0 * shared / (mine.Length + theirs.Length);
    }

    private long[] TrigramCodes => trigramCodes ??= CodeTrigrams(Key);

    private static long[] CodeTrigrams(string key)
    {
        var padded = $"  {key} ";
        var codes = new long[padded.Length - 2];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = ((long)padded[i] << 32) | ((long)padded[i + 1] << 16) | padded[i + 2];
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

        return codes[..distinct];
    }

    private static IEnumerable<string> NumberRuns(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var isDigit = i < text.Length && char.IsDigit(text[i]);
            if (isDigit && start < 0)
            {
                start = i;
            }
            else if (!isDigit && start >= 0)
            {
                yield return text[start..i].TrimStart('0');
                start = -1;
            }
        }
    }
}

/// <summary>
/// Parsed descriptions by their printed text: a tenant bills the same catalogue items over and over, so each distinct
/// description is parsed (and its trigrams made) once per session instead of once per line and per comparison.
/// </summary>
internal sealed class ItemDescriptions
{
    private readonly Dictionary<string, ItemDescription> byText = new(StringComparer.Ordinal);

    public ItemDescription Of(string description)
    {
        if (!byText.TryGetValue(description, out var parsed))
        {
            parsed = ItemDescription.Parse(description);
            byText[description] = parsed;
        }

        return parsed;
    }
}
