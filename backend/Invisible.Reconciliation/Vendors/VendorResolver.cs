using System.Globalization;
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

    private readonly Dictionary<(string Name, string? TaxId, string? PoVendor), VendorResolution> resolved = [];
    private readonly Dictionary<string, (VendorName Printed, List<NameCandidate> Candidates)> candidatesByPrintedName = new(StringComparer.Ordinal);

    public VendorDirectory Directory => directory;

    public VendorResolution Resolve(string printedName, string? printedTaxId, Vendor? referencedPoVendor)
    {
        var key = (printedName, printedTaxId, referencedPoVendor?.Code);
        if (!resolved.TryGetValue(key, out var resolution))
        {
            resolution = Score(printedName, printedTaxId, referencedPoVendor);
            resolved[key] = resolution;
        }

        return resolution;
    }

    /// <summary>
    /// Resolves many printed identities at once, spread over the processor's cores, and remembers the answers for
    /// <see cref="Resolve"/>. Each answer depends only on its printed name, tax id and referenced PO vendor, so the
    /// result is the same as resolving them one by one, in any order.
    /// </summary>
    public void ResolveAll(IEnumerable<(string PrintedName, string? PrintedTaxId, Vendor? ReferencedPoVendor)> printed)
    {
        var pending = printed
            .DistinctBy(entry => (entry.PrintedName, entry.PrintedTaxId, entry.ReferencedPoVendor?.Code))
            .Where(entry => !resolved.ContainsKey((entry.PrintedName, entry.PrintedTaxId, entry.ReferencedPoVendor?.Code)))
            .ToArray();
        var names = pending.Select(entry => entry.PrintedName).Distinct(StringComparer.Ordinal).Where(name => !candidatesByPrintedName.ContainsKey(name)).ToArray();
        var byName = new (VendorName Printed, List<NameCandidate> Candidates)[names.Length];
        Parallel.For(0, names.Length, i => byName[i] = ScoreNames(names[i]));
        for (var i = 0; i < names.Length; i++)
        {
            candidatesByPrintedName[names[i]] = byName[i];
        }

        // Only reads from here on: the name cache is complete for every pending entry.
        var resolutions = new VendorResolution[pending.Length];
        Parallel.For(0, pending.Length, i => resolutions[i] = Score(pending[i].PrintedName, pending[i].PrintedTaxId, pending[i].ReferencedPoVendor));
        for (var i = 0; i < pending.Length; i++)
        {
            resolved[(pending[i].PrintedName, pending[i].PrintedTaxId, pending[i].ReferencedPoVendor?.Code)] = resolutions[i];
        }
    }

    private VendorResolution Score(string printedName, string? printedTaxId, Vendor? referencedPoVendor)
    {
        var (printed, byName) = CandidatesByName(printedName);
        var candidates = new List<NameCandidate>(byName);
        foreach (var vendor in directory.FindByTaxId(printedTaxId).Append(referencedPoVendor))
        {
            if (vendor is not null && !byName.Exists(candidate => candidate.Vendor.Code == vendor.Code))
            {
                foreach (var name in directory.NamesOf(vendor))
                {
                    candidates.Add(new NameCandidate(vendor, name, VendorPairFeatures.NameFeatures(directory, printed, name)));
                }
            }
        }

        // Each vendor by its best-scoring name (the first of equals), best vendor first; codes are unique, so the order is total.
        var byVendor = new List<(NameCandidate Candidate, double[] Features, double Probability)>(candidates.Count);
        foreach (var candidate in candidates)
        {
            var features = VendorPairFeatures.WithEvidence(candidate.NameFeatures, printedTaxId, candidate.Vendor, referencedPoVendor);
            var probability = model.VendorMatch.Probability(features);
            var index = byVendor.FindIndex(entry => entry.Candidate.Vendor.Code == candidate.Vendor.Code);
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
        var evidence = new VendorEvidence(printedName, printedTaxId, referencedPoVendor?.Code, model.Version, scored);
        if (best is null || best.Probability < AcceptProbability)
        {
            return new VendorResolution(null, 0, evidence,
                $"No master vendor resembles '{printedName}' closely enough" +
                (best is null ? "." : $" (closest {best.VendorCode} '{best.MatchedName}' at {Percent(best.Probability)})."));
        }

        if (runnerUp is not null && LogOdds(best.Probability) - LogOdds(runnerUp.Probability) < RequiredLogOddsLead)
        {
            return new VendorResolution(null, 0, evidence,
                $"'{printedName}' fits {best.VendorCode} ({Percent(best.Probability)}) and {runnerUp.VendorCode} " +
                $"({Percent(runnerUp.Probability)}) alike; a reviewer must choose.");
        }

        var chosen = directory.FindByCode(best.VendorCode)!;
        var corroboration = (VendorPairFeatures.TaxIdAgreement(printedTaxId, chosen.TaxId) > 0 ? $"; tax id {printedTaxId} agrees" : "") +
            (referencedPoVendor?.Code == chosen.Code ? "; the referenced PO is theirs" : "");
        return new VendorResolution(chosen, best.Probability, evidence,
            $"Vendor {chosen.Code} '{chosen.Name}' from printed '{printedName}' ({best.MatchedName} scored {Percent(best.Probability)}{corroboration}; " +
            $"top features {string.Join(", ", best.TopFeatures)}).");
    }

    /// <summary>The vendors whose names resemble a printed name, with the name features: the same for every invoice printing it.</summary>
    private (VendorName Printed, List<NameCandidate> Candidates) CandidatesByName(string printedName)
    {
        if (!candidatesByPrintedName.TryGetValue(printedName, out var entry))
        {
            entry = ScoreNames(printedName);
            candidatesByPrintedName[printedName] = entry;
        }

        return entry;
    }

    private (VendorName Printed, List<NameCandidate> Candidates) ScoreNames(string printedName)
    {
        var printed = VendorName.Parse(printedName);
        return (printed, directory.CandidatesFor(printed)
            .Select(candidate => new NameCandidate(candidate.Vendor, candidate.Name, VendorPairFeatures.NameFeatures(directory, printed, candidate.Name)))
            .ToList());
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

public sealed record VendorCandidate(string VendorCode, string MatchedName, double Probability, IReadOnlyList<FeatureContribution> TopFeatures);
