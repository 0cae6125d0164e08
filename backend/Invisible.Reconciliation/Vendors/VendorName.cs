using System.Net;
using System.Text.RegularExpressions;
using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Vendors;

/// <summary>
/// A company name reduced to the words that identify the company: case, punctuation, <c>&amp;</c>/<c>and</c>, a leading
/// <c>The</c> and legal-form suffixes in many languages are dropped; well-known abbreviations are spelled out.
/// </summary>
public sealed partial class VendorName
{
    private static readonly HashSet<string> LegalForms = new(StringComparer.Ordinal)
    {
        "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "plc", "llp", "lp",
        "gmbh", "ag", "kg", "ohg", "ug", "ev", "bv", "nv", "vof", "sa", "sas", "sarl", "srl", "spa", "sl", "slu", "sau",
        "oy", "oyj", "ab", "as", "asa", "aps", "kk", "pty", "pte", "bhd", "sdn", "kft", "zrt", "sro", "doo", "spzoo", "zoo",
        "sp", "cv", "sab", "ltda", "eireli", "pvt", "private", "public",
        "aktiengesellschaft", "kommanditgesellschaft", "vennootschap", "naamloze", "besloten", "commanditaire",
    };

    /// <summary>Abbreviations that are not simply a prefix or subsequence of the word (those are handled by <see cref="TokenSimilarity"/>).</summary>
    private static readonly Dictionary<string, string> Abbreviations = new(StringComparer.Ordinal)
    {
        ["intl"] = "international",
        ["natl"] = "national",
        ["mfg"] = "manufacturing",
        ["mfrs"] = "manufacturers",
        ["svc"] = "services",
        ["svcs"] = "services",
        ["serv"] = "services",
        ["prods"] = "products",
        ["prod"] = "products",
        ["assoc"] = "associates",
        ["assocs"] = "associates",
        ["bros"] = "brothers",
        ["dept"] = "department",
        ["hldgs"] = "holdings",
        ["hldg"] = "holdings",
        ["grp"] = "group",
        ["mgmt"] = "management",
        ["eqpt"] = "equipment",
        ["equip"] = "equipment",
        ["fac"] = "facility",
        ["elec"] = "electrical",
        ["ind"] = "industrial",
        ["supp"] = "supply",
        ["sys"] = "systems",
        ["tech"] = "technologies",
        ["whse"] = "warehouse",
        ["ctr"] = "center",
        ["engg"] = "engineering",
    };

    private static readonly string[] SpelledOutLegalForms = ["incorporated", "corporation", "limited", "company", "gesellschaft"];

    private static readonly HashSet<string> FillerWords = new(StringComparer.Ordinal) { "the", "and", "of" };

    private IReadOnlySet<string>? trigrams;

    private VendorName(string printed, IReadOnlyList<string> tokens)
    {
        Printed = printed;
        Tokens = tokens;
        Key = string.Join(' ', tokens);
        TrigramCodes = StringSimilarity.TrigramCodes(Key);
    }

    public string Printed { get; }

    /// <summary>The identifying words, in printed order.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The identifying words joined by single spaces: equal keys mean the same name.</summary>
    public string Key { get; }

    /// <summary>Character trigrams of <see cref="Key"/>, for candidate look-up and the trigram-overlap feature.</summary>
    public IReadOnlySet<string> Trigrams => trigrams ??= StringSimilarity.Trigrams(Key);

    /// <summary>
    /// <see cref="Trigrams"/> as sorted codes (<see cref="StringSimilarity.TrigramCodes"/>): what the look-up and the
    /// trigram-overlap feature use, made once per parsed name.
    /// </summary>
    internal long[] TrigramCodes { get; }

    public static VendorName Parse(string printed)
    {
        var words = NameBeforeItsPlace(WithoutMarkupRemnants(printed).Replace("&", " and ", StringComparison.Ordinal));
        while (words.Count > 1 && IsLegalForm(words[^1]))
        {
            words.RemoveAt(words.Count - 1);
            JoinTrailingInitials(words);
        }

        var tokens = new List<string>(words.Count);
        foreach (var word in words)
        {
            if (!FillerWords.Contains(word))
            {
                tokens.Add(Abbreviations.GetValueOrDefault(word, word));
            }
        }

        return new VendorName(printed, tokens.Count > 0 ? tokens : words);
    }

    /// <summary>
    /// How alike two words are in a company name: equal, an abbreviation (prefix <c>Ind</c>/<c>Industrial</c> or subsequence
    /// <c>Mfg</c>/<c>Manufacturing</c>), or a typo (one slip in words of 4 to 6 letters, two in longer ones). Zero when they
    /// are different words: similarity measures that reward shared letters would call <c>Orion</c> a typo of <c>Horizon</c>.
    /// </summary>
    public static double TokenSimilarity(string first, string second)
    {
        if (first == second)
        {
            return 1;
        }

        var (shorter, longer) = first.Length <= second.Length ? (first, second) : (second, first);
        if (shorter.Length >= 3 && longer.StartsWith(shorter, StringComparison.Ordinal))
        {
            return 0.9;
        }

        if (shorter.Length >= 3 && shorter[0] == longer[0] && shorter.Length * 10 <= longer.Length * 7 && IsSubsequence(shorter, longer))
        {
            return 0.85;
        }

        var allowedSlips = shorter.Length >= 7 ? 2 : shorter.Length >= 4 ? 1 : 0;
        if (allowedSlips == 0)
        {
            return 0;
        }

        var slips = StringSimilarity.TypingDistance(first, second, allowedSlips);
        return slips <= allowedSlips ? 1.0 - (double)slips / longer.Length : 0;
    }

    public override string ToString() => Key;

    /// <summary>A legal form, or a misspelt long one (<c>Incorporatted</c>, <c>Limted</c>): short ones are too like real words.</summary>
    private static bool IsLegalForm(string word) =>
        LegalForms.Contains(word) ||
        (word.Length >= 6 && SpelledOutLegalForms.Any(form => StringSimilarity.TypingDistance(word, form, 1) <= 1));

    private static bool IsSubsequence(string shorter, string longer)
    {
        var position = 0;
        foreach (var character in longer)
        {
            if (position < shorter.Length && shorter[position] == character)
            {
                position++;
            }
        }

        return position == shorter.Length;
    }

    /// <summary>
    /// The words of a name, up to the comma after its legal form: registers and ERP exports append the place
    /// (<c>Heineken N.V., AMSTERDAM</c>, <c>… B.V., BERGEN OP ZOOM, NL</c>), and a name is complete once its legal form is
    /// printed. Commas before the legal form (<c>ACME Holdings, Inc.</c>, <c>Smith, Jones &amp; Partners</c>) keep everything.
    /// </summary>
    private static List<string> NameBeforeItsPlace(string printed)
    {
        var comma = printed.IndexOf(',', StringComparison.Ordinal);
        var words = Normalize.WordList(comma < 0 ? printed : printed[..comma]);
        JoinTrailingInitials(words);
        while (comma >= 0 && !(words.Count > 1 && IsLegalForm(words[^1])))
        {
            var next = printed.IndexOf(',', comma + 1);
            words.AddRange(Normalize.WordList(next < 0 ? printed[(comma + 1)..] : printed[(comma + 1)..next]));
            JoinTrailingInitials(words);
            comma = next;
        }

        return words;
    }

    /// <summary>
    /// Master data exported through HTML or XML keeps its escapes: <c>Smith &amp;AMP; Sons</c>, <c>Smith &amp;amp Sons</c>,
    /// <c>O&amp;#39;Brien</c>. An escaped ampersand (in any case, its semicolon lost or not) is an ampersand; the other
    /// escapes are decoded as HTML would.
    /// </summary>
    private static string WithoutMarkupRemnants(string printed) =>
        printed.Contains('&', StringComparison.Ordinal) ? WebUtility.HtmlDecode(EscapedAmpersand().Replace(printed, "&")) : printed;

    [GeneratedRegex(@"&(?:amp|#0*38|#x0*26)(?:;|(?![a-z0-9]))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EscapedAmpersand();

    /// <summary>"S. A." and "B. V." arrive as single letters; they are one legal-form word.</summary>
    private static void JoinTrailingInitials(List<string> words)
    {
        var start = words.Count;
        while (start > 0 && words[start - 1].Length == 1 && char.IsLetter(words[start - 1][0]))
        {
            start--;
        }

        if (words.Count - start >= 2 && start > 0)
        {
            var joined = string.Concat(words.Skip(start));
            words.RemoveRange(start, words.Count - start);
            words.Add(joined);
        }
    }
}
