using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Vendors;

/// <summary>
/// What a tenant's confirmed names teach beyond each name itself. A person who confirms that <c>Royal Philips</c> is
/// <c>Koninklijke Philips N.V.</c> also says that this tenant's suppliers print <c>royal</c> for <c>koninklijke</c>, so
/// <c>Royal KPN</c> is <c>Koninklijke KPN N.V.</c> too; one who confirms <c>Siemens Aktiengeselschaft</c> says that the
/// legal form <c>Aktiengesellschaft</c> arrives misspelt here, so a misspelling of it on any other vendor's invoice is
/// that legal form and not a word of the name.
/// </summary>
/// <remarks>
/// Each confirmed name is aligned with the vendor's name it shares most words with. A printed word that pairs with no
/// word of that name is then either a misspelt legal form of the name (it is a typo of one the name spells out) or, when
/// exactly as many of the name's words are left unpaired and at least one word paired, the word it stands for, in order.
/// A name sharing no word with the vendor's (a trading name) teaches only itself. Anything else teaches
/// nothing: a word that could mean several things is left to the scorer. A learned word never replaces a word of the
/// master itself, so no vendor's own name is read as another's.
/// </remarks>
public sealed class LearnedWords
{
    /// <summary>Legal-form words shorter than this are too like ordinary words to accept their misspellings.</summary>
    private const int ShortestMisspeltLegalForm = 7;

    private readonly Dictionary<string, string> masterWordOf = new(StringComparer.Ordinal);
    private readonly List<string> misspeltLegalForms = [];

    private LearnedWords()
    {
    }

    /// <summary>Nothing learned: names are read as parsed.</summary>
    public static LearnedWords None { get; } = new();

    /// <summary>Printed word → the master word it stands for (abbreviations, translations, old → new names).</summary>
    public IReadOnlyDictionary<string, string> Equivalents => masterWordOf;

    /// <summary>Legal forms (as the master spells them) whose misspellings are dropped from printed names.</summary>
    public IReadOnlyList<string> MisspeltLegalForms => misspeltLegalForms;

    public bool IsEmpty => masterWordOf.Count == 0 && misspeltLegalForms.Count == 0;

    /// <summary>
    /// Learns from each vendor's confirmed names against that vendor's names. <paramref name="masterWords"/> are the
    /// words of every master name of the tenant, which a learned equivalence never rewrites.
    /// </summary>
    public static LearnedWords From(IEnumerable<(Vendor Vendor, IReadOnlyList<VendorName> Names)> vendors, IReadOnlySet<string> masterWords)
    {
        var learned = new LearnedWords();
        var conflicting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (vendor, names) in vendors)
        {
            foreach (var confirmed in vendor.ConfirmedAliases)
            {
                learned.Learn(VendorName.Parse(confirmed), names, masterWords, conflicting);
            }
        }

        foreach (var word in conflicting)
        {
            learned.masterWordOf.Remove(word);
        }

        return learned;
    }

    /// <summary>The printed name with misspelt legal forms dropped and learned words read as the master words they stand for.</summary>
    public VendorName Apply(VendorName printed)
    {
        if (IsEmpty)
        {
            return printed;
        }

        var tokens = new List<string>(printed.Tokens.Count);
        var changed = false;
        foreach (var token in printed.Tokens)
        {
            if (misspeltLegalForms.Any(form => IsMisspelling(token, form)))
            {
                changed = true;
                continue;
            }

            if (masterWordOf.TryGetValue(token, out var masterWord))
            {
                changed = true;
                tokens.Add(masterWord);
                continue;
            }

            tokens.Add(token);
        }

        // A name that is nothing but a misspelt legal form is left as it was: some word must identify the company.
        return !changed || tokens.Count == 0 ? printed : printed.WithTokens(tokens);
    }

    private void Learn(VendorName confirmed, IReadOnlyList<VendorName> names, IReadOnlySet<string> masterWords, HashSet<string> conflicting)
    {
        if (names.Count == 0)
        {
            return;
        }

        var name = names.MaxBy(candidate => Pair(confirmed.Tokens, candidate.Tokens).Paired)!;
        var (paired, unpairedPrinted, unpairedMaster) = Pair(confirmed.Tokens, name.Tokens);
        var spelledOutForms = name.Words.Where(word => word.Length >= ShortestMisspeltLegalForm && !name.Tokens.Contains(word)).ToList();
        var left = new List<string>();
        foreach (var word in unpairedPrinted)
        {
            if (spelledOutForms.FirstOrDefault(form => IsMisspelling(word, form)) is { } form)
            {
                if (!misspeltLegalForms.Contains(form, StringComparer.Ordinal))
                {
                    misspeltLegalForms.Add(form);
                }
            }
            else
            {
                left.Add(word);
            }
        }

        // Only a name that shares a word with the vendor's says what its other words stand for: a trading name that shares
        // none (Roadrunner Trading for Acme Supplies) is another name, not other words for the same one.
        if (paired == 0 || left.Count == 0 || left.Count != unpairedMaster.Count)
        {
            return;
        }

        for (var i = 0; i < left.Count; i++)
        {
            if (masterWords.Contains(left[i]))
            {
                continue;
            }

            if (masterWordOf.TryGetValue(left[i], out var earlier) && earlier != unpairedMaster[i])
            {
                conflicting.Add(left[i]);
            }

            masterWordOf[left[i]] = unpairedMaster[i];
        }
    }

    /// <summary>Pairs each printed word with the first unpaired master word it resembles, as the resolver compares names.</summary>
    private static (int Paired, List<string> UnpairedPrinted, List<string> UnpairedMaster) Pair(IReadOnlyList<string> printed, IReadOnlyList<string> master)
    {
        var used = new bool[master.Count];
        var unpaired = new List<string>();
        foreach (var word in printed)
        {
            var index = Enumerable.Range(0, master.Count).Where(i => !used[i]).FirstOrDefault(i => VendorName.TokenSimilarity(word, master[i]) > 0, -1);
            if (index < 0)
            {
                unpaired.Add(word);
            }
            else
            {
                used[index] = true;
            }
        }

        return (printed.Count - unpaired.Count, unpaired, master.Where((_, i) => !used[i]).ToList());
    }

    /// <summary>A typist's slip or two in a long word (one in words of fewer than ten letters), never the word itself.</summary>
    private static bool IsMisspelling(string word, string form)
    {
        if (word == form || Math.Min(word.Length, form.Length) < ShortestMisspeltLegalForm)
        {
            return false;
        }

        var allowed = Math.Min(word.Length, form.Length) >= 10 ? 2 : 1;
        return StringSimilarity.TypingDistance(word, form, allowed) <= allowed;
    }
}
