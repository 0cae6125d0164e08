using System.Text;

namespace Invisible.Reconciliation.Vendors;

/// <summary>
/// How suppliers actually print their own name: abbreviations, typos, changed or missing legal forms, capitals, a
/// leading "The". Used to build training pairs from the master data and to generate realistic sample invoices.
/// Deterministic for a given <see cref="Random"/> state.
/// </summary>
public static class PrintedNameVariants
{
    private static readonly Dictionary<string, string[]> Abbreviated = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Products"] = ["Prods", "Prod."],
        ["Services"] = ["Svcs", "Svcs.", "Serv."],
        ["Facility"] = ["Fac.", "Fac"],
        ["Industrial"] = ["Ind.", "Ind"],
        ["Supply"] = ["Supp.", "Supp"],
        ["Supplies"] = ["Supp.", "Suppl."],
        ["International"] = ["Intl", "Int'l"],
        ["Manufacturing"] = ["Mfg", "Mfg."],
        ["Associates"] = ["Assoc.", "Assocs"],
        ["Brothers"] = ["Bros", "Bros."],
        ["Department"] = ["Dept", "Dept."],
        ["Electrical"] = ["Elec.", "Elec"],
        ["Holdings"] = ["Hldgs"],
        ["Management"] = ["Mgmt"],
        ["Equipment"] = ["Equip.", "Eqpt"],
        ["Chemicals"] = ["Chem."],
        ["Engineering"] = ["Eng."],
        ["Systems"] = ["Sys."],
        ["Technologies"] = ["Tech"],
        ["and"] = ["&"],
    };

    private static readonly Dictionary<string, string[]> LegalFormSwaps = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Inc"] = ["Inc.", "Incorporated", ""],
        ["Inc."] = ["Inc", "Incorporated", ""],
        ["Incorporated"] = ["Inc", "Inc."],
        ["Limited"] = ["Ltd", "Ltd.", ""],
        ["Ltd"] = ["Limited", "Ltd.", ""],
        ["Ltd."] = ["Limited", "Ltd", ""],
        ["Corporation"] = ["Corp", "Corp.", ""],
        ["Corp."] = ["Corporation", "Corp", ""],
        ["Corp"] = ["Corporation", "Corp.", ""],
        ["LLC"] = ["L.L.C.", "Llc", ""],
        ["GmbH"] = ["Gmbh", "GMBH", ""],
        ["B.V."] = ["BV", "B.V", ""],
        ["BV"] = ["B.V.", ""],
        ["S.A."] = ["SA", ""],
        ["SA"] = ["S.A.", ""],
        ["SARL"] = ["S.A.R.L.", ""],
        ["AG"] = [""],
        ["Oy"] = [""],
        ["AB"] = [""],
        ["Co"] = ["Co.", "Company", ""],
    };

    /// <summary>One printed variant of <paramref name="masterName"/>, applying one to three habits.</summary>
    public static string Variant(string masterName, Random random)
    {
        var words = masterName.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var habits = 1 + random.Next(3);
        for (var i = 0; i < habits; i++)
        {
            switch (random.Next(6))
            {
                case 0:
                    Abbreviate(words, random);
                    break;
                case 1:
                    Misspell(words, random);
                    break;
                case 2:
                    SwapLegalForm(words, random);
                    break;
                case 3:
                    words = words.Select(word => word.ToUpperInvariant()).ToList();
                    break;
                case 4:
                    if (!words[0].Equals("The", StringComparison.OrdinalIgnoreCase))
                    {
                        words.Insert(0, "The");
                    }

                    break;
                default:
                    if (words.Count > 1)
                    {
                        words[^2] += ",";
                    }

                    break;
            }
        }

        return string.Join(' ', words.Where(word => word.Length > 0));
    }

    private static void Abbreviate(List<string> words, Random random)
    {
        var candidates = Enumerable.Range(0, words.Count).Where(i => Abbreviated.ContainsKey(words[i])).ToList();
        if (candidates.Count > 0)
        {
            var index = candidates[random.Next(candidates.Count)];
            var options = Abbreviated[words[index]];
            words[index] = options[random.Next(options.Length)];
        }
    }

    private static void SwapLegalForm(List<string> words, Random random)
    {
        if (LegalFormSwaps.TryGetValue(words[^1], out var options))
        {
            words[^1] = options[random.Next(options.Length)];
        }
    }

    /// <summary>A typist's slip in the longest word: two letters swapped, one dropped, doubled or replaced.</summary>
    private static void Misspell(List<string> words, Random random)
    {
        var index = Enumerable.Range(0, words.Count).MaxBy(i => words[i].Length);
        var word = new StringBuilder(words[index]);
        if (word.Length < 5)
        {
            return;
        }

        var position = 1 + random.Next(word.Length - 2);
        switch (random.Next(4))
        {
            case 0:
                (word[position], word[position + 1]) = (word[position + 1], word[position]);
                break;
            case 1:
                word.Remove(position, 1);
                break;
            case 2:
                word.Insert(position, word[position]);
                break;
            default:
                word[position] = "aeiou"[random.Next(5)] == word[position] ? 'y' : "aeiou"[random.Next(5)];
                break;
        }

        words[index] = word.ToString();
    }
}
