using System.Globalization;
using System.Runtime.InteropServices;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Similarity;

namespace Invisible.Reconciliation.Vendors;

/// <summary>
/// Decides which master vendor sent an invoice from the printed name, the printed tax id and the PO it references.
/// Printed names repeat across a supplier's invoices, so answers are remembered for the life of the resolver.
/// </summary>
public sealed class VendorResolver(VendorDirectory directory, SimilarityModel model)
{
    /// <summary>Below this probability a vendor is not accepted at all.</summary>
    public const double AcceptProbability = 0.5;

    /// <summary>
    /// An accepted vendor must lead the next vendor by this much in log-odds (about 7 times the odds), or the invoice
    /// stays unresolved. Log-odds, because 99.9 % against 85 % is a clear lead while 60 % against 40 % is not.
    /// </summary>
    public const double RequiredLogOddsLead = 2.0;

    /// <summary>How many best-scoring vendors a resolution keeps as evidence.</summary>
    private const int EvidenceCandidates = 3;

    private readonly Dictionary<PrintedIdentity, VendorResolution> resolved = [];

    // What a resolution is made of, each remembered at the level it depends on. Many printed names parse to the same key
    // ("ACME Supplies, Inc." and "Acme Supplies Inc"), and the name features depend on the key alone; the scoring depends
    // on the key, the tax id once normalised and the referenced PO's vendor; only the evidence and the explanation quote
    // what was printed, so they alone are made per printed name and tax id.
    private readonly Dictionary<string, VendorName> parsedNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NameCandidate>> candidatesByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, string TaxId, string? PoVendor), ScoredIdentity> scoredIdentities = [];

    public VendorDirectory Directory => directory;

    public VendorResolution Resolve(string printedName, string? printedTaxId, Vendor? referencedPoVendor)
    {
        var key = new PrintedIdentity(printedName, printedTaxId, referencedPoVendor?.Code);
        if (!resolved.TryGetValue(key, out var resolution))
        {
            var printed = Parsed(printedName);
            var identity = (printed.Key, Text.Normalize.Code(printedTaxId), referencedPoVendor?.Code);
            if (!scoredIdentities.TryGetValue(identity, out var scored))
            {
                scored = Score(printed, CandidatesOf(printed), printedTaxId, referencedPoVendor);
                scoredIdentities[identity] = scored;
            }

            resolution = scored.Resolution(printedName, printedTaxId, referencedPoVendor?.Code, model.Version);
            resolved[key] = resolution;
        }

        return resolution;
    }

    /// <summary>
    /// Resolves many printed identities at once, spread over the processor's cores, remembers the answers for
    /// <see cref="Resolve"/> and returns them in the order given. Each answer depends only on its printed name, tax id
    /// and referenced PO vendor, so the result is the same as resolving them one by one, in any order.
    /// </summary>
    public IReadOnlyList<VendorResolution> ResolveAll(IEnumerable<(string PrintedName, string? PrintedTaxId, Vendor? ReferencedPoVendor)> printed)
    {
        var entries = printed as IReadOnlyList<(string PrintedName, string? PrintedTaxId, Vendor? ReferencedPoVendor)> ?? printed.ToList();

        // Each printed identity once: the entries' answers are copied from it at the end. The identities are hashed side by
        // side first, so that finding the distinct ones here only compares.
        var identitiesOf = new PrintedIdentity[entries.Count];
        Parallel.For(0, entries.Count, i =>
            identitiesOf[i] = new PrintedIdentity(entries[i].PrintedName, entries[i].PrintedTaxId, entries[i].ReferencedPoVendor?.Code));
        var distinctOf = new int[entries.Count];
        var distinctIndexes = new Dictionary<PrintedIdentity, int>();
        var distinct = new List<(string PrintedName, string? PrintedTaxId, Vendor? ReferencedPoVendor)>();
        var distinctIdentities = new List<PrintedIdentity>();
        for (var i = 0; i < entries.Count; i++)
        {
            ref var index = ref CollectionsMarshal.GetValueRefOrAddDefault(distinctIndexes, identitiesOf[i], out var seen);
            if (!seen)
            {
                index = distinct.Count;
                distinct.Add(entries[i]);
                distinctIdentities.Add(identitiesOf[i]);
            }

            distinctOf[i] = index;
        }

        var pending = new List<(string PrintedName, string? PrintedTaxId, Vendor? ReferencedPoVendor)>();
        var pendingIdentities = new List<PrintedIdentity>();
        for (var i = 0; i < distinct.Count; i++)
        {
            if (!resolved.ContainsKey(distinctIdentities[i]))
            {
                pending.Add(distinct[i]);
                pendingIdentities.Add(distinctIdentities[i]);
            }
        }

        // Each stage computes what the next needs in parallel, then records it from this thread: the caches are only read
        // while work runs on the other cores.
        var distinctNames = pending.Select(entry => entry.PrintedName).Where(name => !parsedNames.ContainsKey(name)).Distinct(StringComparer.Ordinal).ToArray();
        var parsed = new VendorName[distinctNames.Length];
        Parallel.For(0, distinctNames.Length, i => parsed[i] = directory.Parse(distinctNames[i]));
        for (var i = 0; i < distinctNames.Length; i++)
        {
            parsedNames[distinctNames[i]] = parsed[i];
        }

        var newKeys = new List<VendorName>();
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in pending)
        {
            var name = parsedNames[entry.PrintedName];
            if (!candidatesByKey.ContainsKey(name.Key) && seenKeys.Add(name.Key))
            {
                newKeys.Add(name);
            }
        }

        var candidates = new List<NameCandidate>[newKeys.Count];
        Parallel.For(0, newKeys.Count, i => candidates[i] = ScoreNames(newKeys[i]));
        for (var i = 0; i < newKeys.Count; i++)
        {
            candidatesByKey[newKeys[i].Key] = candidates[i];
        }

        var identities = new List<(VendorName Printed, string? PrintedTaxId, Vendor? ReferencedPoVendor)>();
        var seenIdentities = new HashSet<(string, string, string?)>();
        foreach (var entry in pending)
        {
            var name = parsedNames[entry.PrintedName];
            var identity = (name.Key, Text.Normalize.Code(entry.PrintedTaxId), entry.ReferencedPoVendor?.Code);
            if (!scoredIdentities.ContainsKey(identity) && seenIdentities.Add(identity))
            {
                identities.Add((name, entry.PrintedTaxId, entry.ReferencedPoVendor));
            }
        }

        var scored = new ScoredIdentity[identities.Count];
        Parallel.For(0, identities.Count, i =>
        {
            var (name, taxId, poVendor) = identities[i];
            scored[i] = Score(name, candidatesByKey[name.Key], taxId, poVendor);
        });
        for (var i = 0; i < identities.Count; i++)
        {
            var (name, taxId, poVendor) = identities[i];
            scoredIdentities[(name.Key, Text.Normalize.Code(taxId), poVendor?.Code)] = scored[i];
        }

        for (var i = 0; i < pending.Count; i++)
        {
            var entry = pending[i];
            var name = parsedNames[entry.PrintedName];
            var identity = scoredIdentities[(name.Key, Text.Normalize.Code(entry.PrintedTaxId), entry.ReferencedPoVendor?.Code)];
            resolved[pendingIdentities[i]] = identity.Resolution(entry.PrintedName, entry.PrintedTaxId, entry.ReferencedPoVendor?.Code, model.Version);
        }

        var ofDistinct = new VendorResolution[distinct.Count];
        for (var i = 0; i < distinct.Count; i++)
        {
            ofDistinct[i] = resolved[distinctIdentities[i]];
        }

        var resolutions = new VendorResolution[entries.Count];
        for (var i = 0; i < resolutions.Length; i++)
        {
            resolutions[i] = ofDistinct[distinctOf[i]];
        }

        return resolutions;
    }

    private VendorName Parsed(string printedName)
    {
        if (!parsedNames.TryGetValue(printedName, out var printed))
        {
            printed = directory.Parse(printedName);
            parsedNames[printedName] = printed;
        }

        return printed;
    }

    /// <summary>
    /// <paramref name="candidates"/> and every name of <paramref name="vendor"/>, unless the name look-up
    /// (<paramref name="byName"/>) found the vendor already; the shared list of the name look-up is copied, never changed.
    /// </summary>
    private List<NameCandidate> WithNamesOf(Vendor vendor, List<NameCandidate> candidates, List<NameCandidate> byName, VendorName printed)
    {
        foreach (var candidate in byName)
        {
            if (candidate.Vendor.Code == vendor.Code)
            {
                return candidates;
            }
        }

        var extended = ReferenceEquals(candidates, byName) ? new List<NameCandidate>(byName) : candidates;
        foreach (var name in directory.NamesOf(vendor))
        {
            extended.Add(new NameCandidate(vendor, name, VendorPairFeatures.NameFeatures(directory, printed, name)));
        }

        return extended;
    }

    /// <summary>The vendors whose names resemble a printed name, with the name features: the same for every name with its key.</summary>
    private List<NameCandidate> CandidatesOf(VendorName printed)
    {
        if (!candidatesByKey.TryGetValue(printed.Key, out var candidates))
        {
            candidates = ScoreNames(printed);
            candidatesByKey[printed.Key] = candidates;
        }

        return candidates;
    }

    private List<NameCandidate> ScoreNames(VendorName printed)
    {
        var byTrigrams = directory.CandidatesFor(printed);
        var candidates = new List<NameCandidate>(byTrigrams.Count);
        foreach (var (vendor, name) in byTrigrams)
        {
            candidates.Add(new NameCandidate(vendor, name, VendorPairFeatures.NameFeatures(directory, printed, name)));
        }

        return candidates;
    }

    /// <summary>
    /// Scores a printed identity against its candidate vendors. Depends on the printed name's key, the printed tax id once
    /// normalised (the raw one is only quoted) and the referenced PO's vendor: <see cref="ScoredIdentity"/> quotes the rest.
    /// </summary>
    private ScoredIdentity Score(VendorName printed, List<NameCandidate> byName, string? printedTaxId, Vendor? referencedPoVendor)
    {
        // A name people confirmed is taken at their word, unless the printed tax id says it is someone else.
        if (directory.FindConfirmed(printed) is { } confirmed && VendorPairFeatures.TaxIdAgreement(printedTaxId, confirmed.TaxId) >= 0)
        {
            return new ScoredIdentity(confirmed, 1.0, [new VendorCandidate(confirmed.Code, printed.Printed, 1.0, [])], ScoredIdentity.Outcome.Accepted,
                "a name people confirmed for it", VendorPairFeatures.TaxIdAgreement(printedTaxId, confirmed.TaxId) > 0,
                referencedPoVendor?.Code == confirmed.Code, ").");
        }

        var scored = ScoreByName(printed, byName, printedTaxId, referencedPoVendor);
        if (scored.Kind == ScoredIdentity.Outcome.Accepted && !scored.TaxIdAgrees && !scored.ReferencedPoIsTheirs &&
            UnpairedWord(printed, scored.Chosen!) is { } extraWord)
        {
            // "Siemens Energy AG" is not "Siemens AG": a word none of the vendor's names has may name a sister company.
            return new ScoredIdentity(null, 0, scored.TopCandidates, ScoredIdentity.Outcome.ExtraWord,
                $"' resembles {scored.Chosen!.Code} '{scored.Chosen.Name}' but adds '{extraWord}', which none of its names has; a reviewer must confirm.",
                false, false);
        }

        if (scored.Kind == ScoredIdentity.Outcome.NoneResembles && directory.FindByAcronym(printed) is { } expanded &&
            VendorPairFeatures.TaxIdAgreement(printedTaxId, expanded.TaxId) >= 0 && (referencedPoVendor is null || referencedPoVendor.Code == expanded.Code))
        {
            return new ScoredIdentity(expanded, AcceptProbability, [new VendorCandidate(expanded.Code, expanded.Name, AcceptProbability, []), .. scored.TopCandidates.Take(EvidenceCandidates - 1)],
                ScoredIdentity.Outcome.Accepted, "an acronym of its name, or its name an acronym of the printed one, and of no other vendor's",
                VendorPairFeatures.TaxIdAgreement(printedTaxId, expanded.TaxId) > 0, referencedPoVendor?.Code == expanded.Code, ").");
        }

        return scored;
    }

    /// <summary>A printed word that pairs with no word of any of <paramref name="vendor"/>'s names; null when every word pairs.</summary>
    private string? UnpairedWord(VendorName printed, Vendor vendor)
    {
        string? unpaired = null;
        foreach (var name in directory.NamesOf(vendor))
        {
            var missing = printed.Tokens.FirstOrDefault(token => !name.Tokens.Any(master => VendorName.TokenSimilarity(token, master) > 0));
            if (missing is null)
            {
                return null;
            }

            unpaired ??= missing;
        }

        return unpaired;
    }

    private ScoredIdentity ScoreByName(VendorName printed, List<NameCandidate> byName, string? printedTaxId, Vendor? referencedPoVendor)
    {
        // The vendors resembling the name, then those the tax id or the referenced PO point at (each of those with all its
        // names, unless the name already brought it in).
        var candidates = byName;
        foreach (var vendor in directory.FindByTaxId(printedTaxId))
        {
            candidates = WithNamesOf(vendor, candidates, byName, printed);
        }

        if (referencedPoVendor is not null)
        {
            candidates = WithNamesOf(referencedPoVendor, candidates, byName, printed);
        }

        // Each vendor by its best-scoring name (the first of equals), best vendor first; codes are unique, so the order is total.
        var byVendor = new List<(NameCandidate Candidate, double[] Features, double Probability)>(candidates.Count);
        foreach (var candidate in candidates)
        {
            var features = VendorPairFeatures.WithEvidence(candidate.NameFeatures, printedTaxId, candidate.Vendor, referencedPoVendor);
            var probability = model.VendorMatch.Probability(features);
            var index = byVendor.Count - 1;
            while (index >= 0 && byVendor[index].Candidate.Vendor.Code != candidate.Vendor.Code)
            {
                index--;
            }

            if (index < 0)
            {
                byVendor.Add((candidate, features, probability));
            }
            else if (probability > byVendor[index].Probability)
            {
                byVendor[index] = (candidate, features, probability);
            }
        }

        byVendor.Sort((a, b) => a.Probability != b.Probability
            ? b.Probability.CompareTo(a.Probability)
            : string.CompareOrdinal(a.Candidate.Vendor.Code, b.Candidate.Vendor.Code));
        var scored = new List<VendorCandidate>(EvidenceCandidates);
        for (var i = 0; i < Math.Min(EvidenceCandidates, byVendor.Count); i++)
        {
            var (candidate, features, probability) = byVendor[i];
            scored.Add(new VendorCandidate(candidate.Vendor.Code, candidate.Name.Printed, probability, model.VendorMatch.Explain(features)));
        }

        var best = scored.FirstOrDefault();
        var runnerUp = scored.Skip(1).FirstOrDefault();
        if (best is null || best.Probability < AcceptProbability)
        {
            return new ScoredIdentity(null, 0, scored, ScoredIdentity.Outcome.NoneResembles,
                best is null ? "." : $" (closest {best.VendorCode} '{best.MatchedName}' at {Percent(best.Probability)}).", false, false);
        }

        if (runnerUp is not null && LogOdds(best.Probability) - LogOdds(runnerUp.Probability) < RequiredLogOddsLead)
        {
            return new ScoredIdentity(null, 0, scored, ScoredIdentity.Outcome.Ambiguous,
                $"' fits {best.VendorCode} ({Percent(best.Probability)}) and {runnerUp.VendorCode} ({Percent(runnerUp.Probability)}) alike; a reviewer must choose.",
                false, false);
        }

        var chosen = directory.FindByCode(best.VendorCode)!;
        return new ScoredIdentity(chosen, best.Probability, scored, ScoredIdentity.Outcome.Accepted,
            $"{best.MatchedName} scored {Percent(best.Probability)}",
            VendorPairFeatures.TaxIdAgreement(printedTaxId, chosen.TaxId) > 0,
            referencedPoVendor?.Code == chosen.Code,
            $"; top features {string.Join(", ", best.TopFeatures)}).");
    }

    private static double LogOdds(double probability)
    {
        var bounded = Math.Clamp(probability, 1e-12, 1 - 1e-12);
        return Math.Log(bounded / (1 - bounded));
    }

    private static string Percent(double probability) => probability.ToString("P1", CultureInfo.InvariantCulture);
}

/// <summary>The outcome of vendor resolution; <see cref="Vendor"/> is null when no vendor could be chosen safely.</summary>
public sealed record VendorResolution(Vendor? Vendor, double Score, VendorEvidence Evidence, string Explanation);

/// <summary>What vendor resolution looked at: the printed identity and the best-scoring master vendors.</summary>
public sealed record VendorEvidence(
    string PrintedName,
    string? PrintedTaxId,
    string? ReferencedPoVendorCode,
    int ModelVersion,
    IReadOnlyList<VendorCandidate> TopCandidates);

internal sealed record NameCandidate(Vendor Vendor, VendorName Name, double[] NameFeatures);

/// <summary>What an invoice prints about its sender (name and tax id as printed, the referenced PO's vendor), hashed once.</summary>
internal readonly struct PrintedIdentity(string name, string? taxId, string? poVendorCode) : IEquatable<PrintedIdentity>
{
    private readonly int hashCode = HashCode.Combine(name, taxId, poVendorCode);

    public string Name { get; } = name;

    public string? TaxId { get; } = taxId;

    public string? PoVendorCode { get; } = poVendorCode;

    public bool Equals(PrintedIdentity other) =>
        hashCode == other.hashCode && string.Equals(Name, other.Name, StringComparison.Ordinal) &&
        string.Equals(TaxId, other.TaxId, StringComparison.Ordinal) && string.Equals(PoVendorCode, other.PoVendorCode, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is PrintedIdentity other && Equals(other);

    public override int GetHashCode() => hashCode;
}

/// <summary>
/// How a printed identity (name key, normalised tax id, referenced PO's vendor) scored, with the explanation's parts
/// that do not quote what was printed, so that each printed spelling only costs its evidence and explanation.
/// </summary>
internal sealed record ScoredIdentity(
    Vendor? Chosen,
    double Score,
    List<VendorCandidate> TopCandidates,
    ScoredIdentity.Outcome Kind,
    string ExplanationPart,
    bool TaxIdAgrees,
    bool ReferencedPoIsTheirs,
    string ExplanationEnd = "")
{
    public enum Outcome
    {
        NoneResembles,
        Ambiguous,
        Accepted,
        ExtraWord,
    }

    public VendorResolution Resolution(string printedName, string? printedTaxId, string? referencedPoVendorCode, int modelVersion)
    {
        var evidence = new VendorEvidence(printedName, printedTaxId, referencedPoVendorCode, modelVersion, TopCandidates);
        var explanation = Kind switch
        {
            Outcome.NoneResembles => string.Concat("No master vendor resembles '", printedName, "' closely enough", ExplanationPart),
            Outcome.Ambiguous or Outcome.ExtraWord => string.Concat("'", printedName, ExplanationPart),
            _ => $"Vendor {Chosen!.Code} '{Chosen.Name}' from printed '{printedName}' ({ExplanationPart}{(TaxIdAgrees ? "; tax id " : "")}" +
                $"{(TaxIdAgrees ? printedTaxId : "")}{(TaxIdAgrees ? " agrees" : "")}{(ReferencedPoIsTheirs ? "; the referenced PO is theirs" : "")}{ExplanationEnd}",
        };
        return new VendorResolution(Chosen, Score, evidence, explanation);
    }
}

public sealed record VendorCandidate(string VendorCode, string MatchedName, double Probability, IReadOnlyList<FeatureContribution> TopFeatures);
