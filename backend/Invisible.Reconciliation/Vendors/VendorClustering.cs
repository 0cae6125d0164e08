using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Vendors;

/// <summary>Two vendors of one cluster and why: the pair's probability of being one company and the evidence.</summary>
public sealed record DuplicatePair(string FirstCode, string SecondCode, double Probability, IReadOnlyList<string> Evidence);

/// <summary>Vendors of the master that are probably one company, with the weakest link that joins them as confidence.</summary>
/// <param name="Id">Stable for the same master: the smallest member code.</param>
public sealed record VendorCluster(string Id, IReadOnlyList<Vendor> Members, double Confidence, IReadOnlyList<DuplicatePair> Pairs);

/// <summary>
/// Finds duplicates inside a vendor master. Comparing every pair is quadratic, so pairs are only scored within blocks of
/// vendors that share something specific: a rare word of the name, the tax id, the e-mail domain (not a free-mail one),
/// a phonetic key of the first words, or an acronym. Each pair is scored with the tenant's similarity model in both
/// directions (the lower counts), pairs that pass the resolver's own bar are joined, and the connected components are the
/// clusters. As the resolver does, a pair whose names differ by a distinctive word ("Siemens" and "Siemens Energy") is
/// not joined unless the tax id agrees: a missed duplicate costs a reviewer a click, a wrong merge costs money.
/// </summary>
public static class VendorClustering
{
    /// <summary>A word shared by more names than this is no evidence (Group, Supply); nor is a bigger block worth scoring.</summary>
    private const int MaxBlockSize = 30;

    private static readonly HashSet<string> FreeMailDomains = new(StringComparer.OrdinalIgnoreCase)
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com", "aol.com", "gmx.de", "gmx.net",
        "web.de", "t-online.de", "mail.com", "protonmail.com", "proton.me", "orange.fr", "free.fr", "btinternet.com", "ziggo.nl", "kpnmail.nl",
    };

    /// <param name="dismissed">Pairs of vendor codes a person said are not one company (both orders): never joined.</param>
    public static IReadOnlyList<VendorCluster> Cluster(IReadOnlyList<Vendor> vendors, SimilarityModel model, IReadOnlySet<(string, string)>? dismissed = null)
    {
        if (vendors.Count < 2)
        {
            return [];
        }

        var directory = new VendorDirectory(vendors);
        var names = vendors.Select(vendor => VendorName.Parse(vendor.Name)).ToArray();
        var pairs = CandidatePairs(vendors, names);
        var accepted = new List<(int First, int Second, DuplicatePair Pair)>();
        foreach (var (first, second, blockedBy) in pairs)
        {
            if (dismissed?.Contains((vendors[first].Code, vendors[second].Code)) == true)
            {
                continue;
            }

            if (Score(directory, model, vendors[first], names[first], vendors[second], names[second], blockedBy) is { } pair)
            {
                accepted.Add((first, second, pair));
            }
        }

        var parent = Enumerable.Range(0, vendors.Count).ToArray();
        foreach (var (first, second, _) in accepted.OrderByDescending(edge => edge.Pair.Probability))
        {
            var (a, b) = (Root(parent, first), Root(parent, second));
            if (a != b)
            {
                parent[Math.Max(a, b)] = Math.Min(a, b);
            }
        }

        var clusters = new List<VendorCluster>();
        foreach (var component in Enumerable.Range(0, vendors.Count).GroupBy(index => Root(parent, index)).Where(group => group.Count() >= 2))
        {
            var members = component.Select(index => vendors[index]).OrderBy(vendor => vendor.Code, StringComparer.Ordinal).ToList();
            var inside = component.ToHashSet();
            var edges = accepted.Where(edge => inside.Contains(edge.First)).Select(edge => edge.Pair).ToList();
            clusters.Add(new VendorCluster(members[0].Code, members, WeakestLink(members, edges), edges));
        }

        return clusters.OrderBy(cluster => cluster.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The probability of the weakest pair a cluster cannot do without: the smallest edge of its maximum spanning tree
    /// (Kruskal over the pairs, strongest first).
    /// </summary>
    private static double WeakestLink(List<Vendor> members, List<DuplicatePair> edges)
    {
        var index = members.Select((vendor, position) => (vendor.Code, position)).ToDictionary(entry => entry.Code, entry => entry.position, StringComparer.Ordinal);
        var parent = Enumerable.Range(0, members.Count).ToArray();
        var weakest = 1.0;
        foreach (var edge in edges.OrderByDescending(edge => edge.Probability))
        {
            var (a, b) = (Root(parent, index[edge.FirstCode]), Root(parent, index[edge.SecondCode]));
            if (a != b)
            {
                parent[Math.Max(a, b)] = Math.Min(a, b);
                weakest = Math.Min(weakest, edge.Probability);
            }
        }

        return weakest;
    }

    private static int Root(int[] parent, int index)
    {
        while (parent[index] != index)
        {
            parent[index] = parent[parent[index]];
            index = parent[index];
        }

        return index;
    }

    /// <summary>Each pair of vendors sharing a block once, with the first block that brought them together.</summary>
    private static List<(int First, int Second, string BlockedBy)> CandidatePairs(IReadOnlyList<Vendor> vendors, VendorName[] names)
    {
        var blocks = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < vendors.Count; i++)
        {
            foreach (var key in BlockingKeys(vendors[i], names[i]))
            {
                blocks.GetOrAddNew(key).Add(i);
            }
        }

        var seen = new HashSet<(int, int)>();
        var pairs = new List<(int, int, string)>();
        foreach (var (key, members) in blocks.OrderBy(block => block.Key, StringComparer.Ordinal))
        {
            if (members.Count < 2 || members.Count > MaxBlockSize)
            {
                continue;
            }

            for (var a = 0; a < members.Count; a++)
            {
                for (var b = a + 1; b < members.Count; b++)
                {
                    var pair = (Math.Min(members[a], members[b]), Math.Max(members[a], members[b]));
                    if (pair.Item1 != pair.Item2 && seen.Add(pair))
                    {
                        pairs.Add((pair.Item1, pair.Item2, key));
                    }
                }
            }
        }

        return pairs;
    }

    /// <summary>What a vendor may share with its duplicates: its words, tax id, e-mail domain, phonetic key and acronym.</summary>
    public static IEnumerable<string> BlockingKeys(Vendor vendor, VendorName name)
    {
        foreach (var token in name.Tokens.Distinct(StringComparer.Ordinal))
        {
            if (token.Length >= 3)
            {
                yield return "word " + token;
            }
        }

        if (name.Tokens.Count > 0)
        {
            yield return "sound " + string.Join(' ', name.Tokens.Take(2).Select(Phonetic.Key));
            yield return "acronym " + (name.Acronym.Length > 0 ? name.Acronym : name.Key);
        }

        var taxId = Normalize.Code(vendor.TaxId);
        if (taxId.Length > 0)
        {
            yield return "tax id " + taxId;
        }

        var at = vendor.Email?.LastIndexOf('@') ?? -1;
        if (at > 0 && vendor.Email![(at + 1)..].Trim().ToLowerInvariant() is { Length: > 0 } domain && !FreeMailDomains.Contains(domain))
        {
            yield return "e-mail " + domain;
        }
    }

    private static DuplicatePair? Score(
        VendorDirectory directory, SimilarityModel model, Vendor first, VendorName firstName, Vendor second, VendorName secondName, string blockedBy)
    {
        var taxIds = VendorPairFeatures.TaxIdAgreement(first.TaxId, second.TaxId);
        if (taxIds < 0)
        {
            return null;
        }

        var forward = model.VendorMatch.Probability(VendorPairFeatures.Compute(directory, firstName, first.TaxId, second, secondName, null));
        var backward = model.VendorMatch.Probability(VendorPairFeatures.Compute(directory, secondName, second.TaxId, first, firstName, null));
        var probability = Math.Min(forward, backward);
        var evidence = new List<string> { $"blocked by {blockedBy}" };
        var acronym = (firstName.Acronym.Length > 0 && firstName.Acronym == secondName.Key) || (secondName.Acronym.Length > 0 && secondName.Acronym == firstName.Key);
        if (acronym)
        {
            probability = Math.Max(probability, VendorResolver.AcceptProbability);
            evidence.Add("one name is the other's acronym");
        }

        if (probability < VendorResolver.AcceptProbability)
        {
            return null;
        }

        if (taxIds <= 0 && !acronym && (UnpairedWord(firstName, secondName) ?? UnpairedWord(secondName, firstName)) is not null)
        {
            return null;
        }

        evidence.Add(firstName.Key == secondName.Key ? "the same name once normalised" : $"names alike ({probability:P0})");
        if (taxIds > 0)
        {
            evidence.Add("the same tax id");
        }

        return new DuplicatePair(first.Code, second.Code, probability, evidence);
    }

    private static string? UnpairedWord(VendorName printed, VendorName master) =>
        printed.Tokens.FirstOrDefault(token => !master.Tokens.Any(other => VendorName.TokenSimilarity(token, other) > 0));
}

/// <summary>
/// A phonetic key of a word in the manner of Soundex (first letter, then the consonant classes, vowels and repeats
/// dropped), so that <c>Meier</c>, <c>Meyer</c> and <c>Mayr</c> share a block.
/// </summary>
public static class Phonetic
{
    public static string Key(string word)
    {
        if (word.Length == 0)
        {
            return "";
        }

        var key = new System.Text.StringBuilder().Append(char.ToLowerInvariant(word[0]));
        var last = Class(word[0]);
        foreach (var character in word.Skip(1))
        {
            var current = Class(character);
            if (current != '0' && current != last)
            {
                key.Append(current);
            }

            if (character is not ('h' or 'w'))
            {
                last = current;
            }
        }

        return key.ToString();
    }

    private static char Class(char character) => char.ToLowerInvariant(character) switch
    {
        'b' or 'f' or 'p' or 'v' => '1',
        'c' or 'g' or 'j' or 'k' or 'q' or 's' or 'x' or 'z' => '2',
        'd' or 't' => '3',
        'l' => '4',
        'm' or 'n' => '5',
        'r' => '6',
        _ => '0',
    };
}
