using System.Globalization;
using System.Net;
using System.Text;
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
        "se", "kgaa", "gbr", "sagl", "sprl", "bvba", "cvba", "ehf", "eurl", "uab",
        "aktiebolag", "osakeyhtio", "aksjeselskap", "aktieselskab", "anpartsselskab", "spolka", "akciova", "sro", "zrt", "nyrt",
        "ooo", "oao", "zao", "pao", "tbk", "jsc", "pjsc", "sae", "bhd", "berhad", "plc",
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

    /// <summary>Legal forms that are also ordinary words of a name: dropped only at either end of it.</summary>
    private static readonly HashSet<string> EnglishWords = new(StringComparer.Ordinal)
    {
        "company", "limited", "private", "public", "incorporated", "corporation", "corp", "inc", "ltd", "co",
    };

    /// <summary>Two-letter legal forms that are as often initials or words of a name.</summary>
    private static readonly HashSet<string> AmbiguousShortForms = new(StringComparer.Ordinal)
    {
        "as", "co", "sp", "cv", "sl", "lp", "ab", "kk", "ug", "ev", "se", "oy", "sa",
    };

    private static readonly HashSet<string> FillerWords = new(StringComparer.Ordinal) { "the", "and", "of" };

    private IReadOnlySet<string>? trigrams;

    private VendorName(string printed, IReadOnlyList<string> tokens, IReadOnlyList<string> words)
    {
        Printed = printed;
        Tokens = tokens;
        Words = words;
        Key = string.Join(' ', tokens);
        TrigramCodes = StringSimilarity.TrigramCodes(Key);
    }

    public string Printed { get; }

    /// <summary>The identifying words, in printed order.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>
    /// All words of the name as printed once folded, initials joined and legal-form phrases contracted, before legal forms
    /// and filler words are dropped: what <see cref="LearnedWords"/> aligns a confirmed name against.
    /// </summary>
    internal IReadOnlyList<string> Words { get; }

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
        var words = NameBeforeItsPlace(AsciiFolded(WithoutMarkupRemnants(printed)).Replace("&", " and ", StringComparison.Ordinal));
        JoinInitials(words);
        ContractLegalFormPhrases(words);
        var allWords = words.ToArray();
        while (words.Count > 1 && IsLegalForm(words[^1]))
        {
            words.RemoveAt(words.Count - 1);
            JoinTrailingInitials(words);
        }

        // Legal forms elsewhere ("AB Volvo", "Heineken N.V. Amsterdam", "GmbH & Co. KG"): dropped when other words remain.
        // Two-letter ones that are also words or initials ("AS", "CO") only first or last, English words ("Public Storage")
        // only last, above.
        var withoutLegalForms = words.Where((word, index) =>
            !(IsLegalForm(word) && !EnglishWords.Contains(word) &&
              (index == 0 || index == words.Count - 1 || word.Length > 2 || !AmbiguousShortForms.Contains(word)))).ToList();
        if (withoutLegalForms.Any(word => !FillerWords.Contains(word)))
        {
            words = withoutLegalForms;
        }

        var tokens = new List<string>(words.Count);
        foreach (var word in words)
        {
            if (!FillerWords.Contains(word))
            {
                tokens.Add(Abbreviations.GetValueOrDefault(word, word));
            }
        }

        return new VendorName(printed, tokens.Count > 0 ? tokens : words, allWords);
    }

    /// <summary>The same printed name with other identifying words (a tenant's learned words applied to them).</summary>
    internal VendorName WithTokens(IReadOnlyList<string> tokens) => new(Printed, tokens, Words);

    /// <summary>
    /// The initials of the identifying words (<c>International Business Machines</c> → <c>ibm</c>) when there are at least
    /// three and each is a word (not a number); empty otherwise, since two letters name far too many companies.
    /// </summary>
    public string Acronym =>
        Tokens.Count >= 3 && Tokens.All(token => char.IsLetter(token[0])) ? string.Concat(Tokens.Select(token => token[0])) : "";

    /// <summary>
    /// Letters without their accents and ligatures spelled out (<c>Nestlé</c> → <c>Nestle</c>, <c>Straße</c> →
    /// <c>Strasse</c>, <c>Øresund</c> → <c>Oresund</c>): master data and invoices disagree on them all the time.
    /// </summary>
    public static string AsciiFolded(string text)
    {
        if (text.All(char.IsAscii))
        {
            return text;
        }

        var folded = new StringBuilder(text.Length);
        foreach (var character in text.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(character) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            folded.Append(character switch
            {
                'ß' => "ss",
                'æ' => "ae",
                'Æ' => "AE",
                'œ' => "oe",
                'Œ' => "OE",
                'ø' => "o",
                'Ø' => "O",
                'ł' => "l",
                'Ł' => "L",
                'đ' => "d",
                'Đ' => "D",
                'þ' => "th",
                'Þ' => "TH",
                'ı' => "i",
                _ => character.ToString(),
            });
        }

        return folded.ToString().Normalize(NormalizationForm.FormC);
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

    /// <summary>Legal forms spelled out over several words, each the abbreviation it stands for.</summary>
    private static readonly (string[] Words, string Form)[] LegalFormPhrases =
    [
        (["gesellschaft", "mit", "beschrankter", "haftung"], "gmbh"),
        (["naamloze", "vennootschap"], "nv"),
        (["besloten", "vennootschap"], "bv"),
        (["societe", "anonyme"], "sa"),
        (["sociedad", "anonima"], "sa"),
        (["societa", "per", "azioni"], "spa"),
        (["public", "limited", "company"], "plc"),
        (["limited", "liability", "company"], "llc"),
        (["limited", "liability", "partnership"], "llp"),
        (["proprietary", "limited"], "pty"),
        (["private", "limited"], "ltd"),
        (["and", "co", "kg"], "kg"),
        (["and", "co"], "co"),
    ];

    private static void ContractLegalFormPhrases(List<string> words)
    {
        foreach (var (phrase, form) in LegalFormPhrases)
        {
            for (var start = 0; start + phrase.Length <= words.Count; start++)
            {
                if (words.Skip(start).Take(phrase.Length).SequenceEqual(phrase, StringComparer.Ordinal))
                {
                    words.RemoveRange(start, phrase.Length);
                    words.Insert(start, form);
                }
            }
        }
    }

    /// <summary>
    /// Runs of single letters anywhere are one word: <c>N. V.</c>, <c>B.V</c> and <c>I B M</c> are printed letter by letter.
    /// </summary>
    private static void JoinInitials(List<string> words)
    {
        for (var start = 0; start < words.Count; start++)
        {
            var end = start;
            while (end < words.Count && words[end].Length == 1 && char.IsLetter(words[end][0]))
            {
                end++;
            }

            if (end - start >= 2)
            {
                var joined = string.Concat(words.Skip(start).Take(end - start));
                words.RemoveRange(start, end - start);
                words.Insert(start, joined);
            }
        }
    }

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
