using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Vendors;

/// <summary>
/// The tenant's vendor master prepared for look-ups: names parsed once, word rarity (IDF) over all master names so that
/// words many vendors share (<c>Group</c>, <c>Supply</c>) weigh little, a tax-id index and a trigram index for candidates.
/// </summary>
public sealed class VendorDirectory
{
    private const int CandidatesByName = 8;

    /// <summary>Up to this many master names, the shared-trigram counters of a look-up live on the stack (2 × 4 bytes each).</summary>
    private const int StackCounters = 2048;

    private readonly Dictionary<string, double> inverseDocumentFrequency = new(StringComparer.Ordinal);
    private readonly double unknownWordWeight;
    private readonly Dictionary<string, List<Vendor>> vendorsByTaxId = new(StringComparer.Ordinal);
    private readonly Dictionary<long, List<int>> namesByTrigram = [];
    private readonly List<(Vendor Vendor, VendorName Name)> names = [];

    /// <summary>Each master name's token weights, norm and rarest word, worked out once instead of in every comparison.</summary>
    private readonly Dictionary<VendorName, MasterWeights> masterWeights = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, List<VendorName>> namesByVendorCode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Vendor> vendorsByCode = new(StringComparer.Ordinal);

    /// <summary>Vendor codes by name key: master names, aliases and confirmed aliases alike.</summary>
    private readonly Dictionary<string, HashSet<string>> codesByKey = new(StringComparer.Ordinal);

    /// <summary>Vendor codes by the acronym of one of their names (<see cref="VendorName.Acronym"/>).</summary>
    private readonly Dictionary<string, HashSet<string>> codesByAcronym = new(StringComparer.Ordinal);

    /// <summary>Vendor codes by the key of a name people confirmed for them.</summary>
    private readonly Dictionary<string, HashSet<string>> codesByConfirmedKey = new(StringComparer.Ordinal);

    public VendorDirectory(IReadOnlyList<Vendor> vendors)
    {
        foreach (var vendor in vendors)
        {
            vendorsByCode[vendor.Code] = vendor;
            foreach (var name in vendor.Aliases.Prepend(vendor.Name).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                var parsed = VendorName.Parse(name);
                names.Add((vendor, parsed));
                namesByVendorCode.GetOrAddNew(vendor.Code).Add(parsed);
                codesByKey.GetOrAddNew(parsed.Key).Add(vendor.Code);
                if (parsed.Acronym.Length > 0)
                {
                    codesByAcronym.GetOrAddNew(parsed.Acronym).Add(vendor.Code);
                }
            }

            var taxId = Normalize.Code(vendor.TaxId);
            if (taxId.Length > 0)
            {
                vendorsByTaxId.GetOrAddNew(taxId).Add(vendor);
            }
        }

        // Confirmed names may also be among a vendor's names (the product loads every alias as one): they are what is
        // learned from, so neither the alignment nor the words a learned word may not rewrite include them.
        var ownNames = vendors.Select(vendor =>
        {
            var confirmedKeys = vendor.ConfirmedAliases.Select(confirmed => VendorName.Parse(confirmed).Key).ToHashSet(StringComparer.Ordinal);
            return (vendor, (IReadOnlyList<VendorName>)NamesOf(vendor).Where(name => !confirmedKeys.Contains(name.Key)).ToList());
        }).ToList();
        var masterWords = ownNames.SelectMany(own => own.Item2).SelectMany(name => name.Tokens).ToHashSet(StringComparer.Ordinal);
        Learned = LearnedWords.From(ownNames, masterWords);
        foreach (var vendor in vendors)
        {
            foreach (var confirmed in vendor.ConfirmedAliases)
            {
                var parsed = VendorName.Parse(confirmed);
                codesByConfirmedKey.GetOrAddNew(parsed.Key).Add(vendor.Code);
                codesByConfirmedKey.GetOrAddNew(Learned.Apply(parsed).Key).Add(vendor.Code);
            }
        }

        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, name) in names)
        {
            foreach (var token in name.Tokens.Distinct(StringComparer.Ordinal))
            {
                documentFrequency[token] = documentFrequency.GetValueOrDefault(token) + 1;
            }
        }

        foreach (var (token, frequency) in documentFrequency)
        {
            inverseDocumentFrequency[token] = Math.Log(1.0 + (double)names.Count / frequency);
        }

        unknownWordWeight = Math.Log(1.0 + Math.Max(1, names.Count));
        for (var index = 0; index < names.Count; index++)
        {
            foreach (var gram in names[index].Name.TrigramCodes)
            {
                namesByTrigram.GetOrAddNew(gram).Add(index);
            }

            masterWeights[names[index].Name] = WeighMaster(names[index].Name);
        }
    }

    /// <summary>What the tenant's confirmed names taught about the words its suppliers print (<see cref="LearnedWords"/>).</summary>
    public LearnedWords Learned { get; }

    /// <summary>A printed name parsed and read with the tenant's learned words: how the resolver reads every printed name.</summary>
    public VendorName Parse(string printedName) => Learned.Apply(VendorName.Parse(printedName));

    public Vendor? FindByCode(string code) => vendorsByCode.GetValueOrDefault(code);

    /// <summary>The one vendor people confirmed this printed name for; null when none did, or people named several.</summary>
    public Vendor? FindConfirmed(VendorName printed) => Single(codesByConfirmedKey, printed.Key);

    /// <summary>
    /// The one vendor an acronym names: the printed name is the acronym of exactly one vendor's name (<c>IBM</c> for
    /// <c>International Business Machines Corporation</c>) or a vendor's name is the printed name's acronym, and no vendor
    /// is named that way outright. Null when any of that is ambiguous: an acronym names a vendor only when nothing else can.
    /// </summary>
    public Vendor? FindByAcronym(VendorName printed)
    {
        var byAcronym = printed.Tokens.Count == 1 && printed.Key.Length >= 3 ? codesByAcronym.GetValueOrDefault(printed.Key) : null;
        var byExpansion = printed.Acronym.Length > 0 ? codesByKey.GetValueOrDefault(printed.Acronym) : null;
        var codes = (byAcronym ?? []).Concat(byExpansion ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (codes.Count != 1 || (byAcronym is not null && codesByKey.ContainsKey(printed.Key)) ||
            (byExpansion is not null && codesByAcronym.ContainsKey(printed.Acronym)))
        {
            return null;
        }

        return vendorsByCode[codes[0]];
    }

    private Vendor? Single(Dictionary<string, HashSet<string>> index, string key) =>
        index.TryGetValue(key, out var codes) && codes.Count == 1 ? vendorsByCode[codes.First()] : null;

    public IReadOnlyList<Vendor> FindByTaxId(string? printedTaxId)
    {
        var taxId = Normalize.Code(printedTaxId);
        return taxId.Length == 0 ? [] : vendorsByTaxId.GetValueOrDefault(taxId) ?? [];
    }

    /// <summary>Master names sharing the most character trigrams with the printed name: cheap recall before scoring.</summary>
    public IReadOnlyList<(Vendor Vendor, VendorName Name)> CandidatesFor(VendorName printed)
    {
        // Called for many printed names at once from several threads: the counters are the caller's own, on its stack
        // for any master of a usual size.
        Span<int> sharedTrigrams = names.Count <= StackCounters ? stackalloc int[names.Count] : new int[names.Count];
        Span<int> touched = names.Count <= StackCounters ? stackalloc int[names.Count] : new int[names.Count];
        var touchedCount = 0;
        foreach (var gram in printed.TrigramCodes)
        {
            if (namesByTrigram.TryGetValue(gram, out var holders))
            {
                foreach (var index in holders)
                {
                    if (sharedTrigrams[index]++ == 0)
                    {
                        touched[touchedCount++] = index;
                    }
                }
            }
        }

        // The few best by shared trigrams, then by master order: a partial selection, not a sort of every name touched.
        Span<int> best = stackalloc int[CandidatesByName];
        var count = 0;
        foreach (var index in touched[..touchedCount])
        {
            var position = count;
            while (position > 0 && Ranks(sharedTrigrams, index, best[position - 1]))
            {
                position--;
            }

            if (position >= CandidatesByName)
            {
                continue;
            }

            var last = Math.Min(count, CandidatesByName - 1);
            for (var i = last; i > position; i--)
            {
                best[i] = best[i - 1];
            }

            best[position] = index;
            count = Math.Min(count + 1, CandidatesByName);
        }

        var candidates = new List<(Vendor Vendor, VendorName Name)>(count);
        foreach (var index in best[..count])
        {
            candidates.Add(names[index]);
        }

        return candidates;
    }

    /// <summary>Whether name <paramref name="index"/> ranks before name <paramref name="other"/>: more shared trigrams, then master order.</summary>
    private static bool Ranks(ReadOnlySpan<int> sharedTrigrams, int index, int other) =>
        sharedTrigrams[index] != sharedTrigrams[other] ? sharedTrigrams[index] > sharedTrigrams[other] : index < other;

    public IEnumerable<VendorName> NamesOf(Vendor vendor) => namesByVendorCode.GetValueOrDefault(vendor.Code) ?? [];

    /// <summary>
    /// Soft TF-IDF cosine: words are paired with their most similar counterpart (typos and abbreviations count partly) and
    /// weighted by rarity, so agreeing on a distinctive word matters and agreeing on <c>Group</c> hardly does.
    /// </summary>
    public NameAgreement Compare(VendorName printed, VendorName master)
    {
        // A master name of this directory has its weights ready; any other name (the trainer parses its own) is weighed now.
        var weights = masterWeights.TryGetValue(master, out var known) ? known : WeighMaster(master);
        var masterTokens = master.Tokens;
        Span<bool> used = masterTokens.Count <= 64 ? stackalloc bool[masterTokens.Count] : new bool[masterTokens.Count];
        double shared = 0, printedNorm = 0;
        foreach (var token in printed.Tokens)
        {
            var (bestIndex, bestSimilarity) = (-1, 0.0);
            for (var i = 0; i < masterTokens.Count; i++)
            {
                if (used[i])
                {
                    continue;
                }

                var similarity = VendorName.TokenSimilarity(token, masterTokens[i]);
                if (similarity > bestSimilarity)
                {
                    (bestIndex, bestSimilarity) = (i, similarity);
                }
            }

            if (bestIndex >= 0)
            {
                used[bestIndex] = true;
                var weight = weights.TokenWeights[bestIndex];
                shared += weight * weight * bestSimilarity;
                printedNorm += weight * weight;
            }
            else
            {
                var weight = inverseDocumentFrequency.GetValueOrDefault(token, unknownWordWeight);
                printedNorm += weight * weight;
            }
        }

        var masterNorm = weights.Norm;
        var cosine = printedNorm == 0 || masterNorm == 0 ? 0 : shared / Math.Sqrt(printedNorm * masterNorm);
        return new NameAgreement(Math.Min(1, cosine), used.Length > 0 && used[weights.RarestIndex]);
    }

    private double WeightOf(string masterToken) => inverseDocumentFrequency.GetValueOrDefault(masterToken, unknownWordWeight);

    /// <summary>
    /// The weight of each master token, the sum of their squares (added in token order) and the first of the heaviest
    /// tokens (the master name's most distinctive word; 0 for a name without tokens).
    /// </summary>
    private MasterWeights WeighMaster(VendorName master)
    {
        var tokenWeights = new double[master.Tokens.Count];
        double norm = 0;
        var rarestIndex = 0;
        for (var i = 0; i < tokenWeights.Length; i++)
        {
            var weight = WeightOf(master.Tokens[i]);
            tokenWeights[i] = weight;
            norm += weight * weight;
            if (weight > tokenWeights[rarestIndex])
            {
                rarestIndex = i;
            }
        }

        return new MasterWeights(tokenWeights, norm, rarestIndex);
    }

    private sealed record MasterWeights(double[] TokenWeights, double Norm, int RarestIndex);
}

/// <param name="Cosine">Soft TF-IDF cosine in [0, 1].</param>
/// <param name="RarestWordAgrees">Whether the master name's most distinctive word appears (possibly abbreviated or misspelt).</param>
public readonly record struct NameAgreement(double Cosine, bool RarestWordAgrees);
