using System.Collections.Concurrent;
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
/// Items as printed, prepared once per session: a tenant bills the same catalogue items over and over, so each distinct
/// description is parsed (and its trigrams made) once instead of once per line and per comparison, and each distinct
/// printed SKU is normalised once, to one string instance per normalised SKU, so that SKUs compare by reference.
/// Safe to use from several threads (a full reconcile prepares the invoices' items in parallel).
/// </summary>
internal sealed class ItemCatalog
{
    private readonly ConcurrentDictionary<string, ItemDescription> descriptionsByText = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> skusByText = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> canonicalSkus = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> currencies = new(StringComparer.Ordinal);

    public ItemDescription Description(string description) =>
        descriptionsByText.TryGetValue(description, out var parsed) ? parsed : descriptionsByText.GetOrAdd(description, ItemDescription.Parse);

    /// <summary>The SKU as <see cref="Text.Normalize.Code"/> normalises it; "" for none.</summary>
    public string Sku(string? printed)
    {
        if (string.IsNullOrEmpty(printed))
        {
            return "";
        }

        if (!skusByText.TryGetValue(printed, out var normalized))
        {
            normalized = Text.Normalize.Code(printed);
            normalized = canonicalSkus.GetOrAdd(normalized, normalized);
            skusByText.TryAdd(printed, normalized);
        }

        return normalized;
    }

    /// <summary>The currency code as one instance per code: every PO of a tenant carries one of a few.</summary>
    public string Currency(string currency) => currencies.GetOrAdd(currency, currency);
}
