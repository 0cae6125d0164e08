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

        return StringSimilarity.TrigramDice(TrigramCodes, other.TrigramCodes);
    }

    private long[] TrigramCodes => trigramCodes ??= StringSimilarity.TrigramCodes(Key);

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
