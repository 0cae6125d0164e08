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

    private VendorResolution Score(string printedName, string? printedTaxId, Vendor? referencedPoVendor)
    {
        var (printed, byName) = CandidatesByName(printedName);
        var candidates = new List<NameCandidate>(byName);
        foreach (var vendor in directory.FindByTaxId(printedTaxId).Append(referencedPoVendor).OfType<Vendor>()
                     .Where(vendor => !byName.Exists(candidate => candidate.Vendor.Code == vendor.Code)))
        {
            candidates.AddRange(directory.NamesOf(vendor).Select(name => new NameCandidate(vendor, name, VendorPairFeatures.NameFeatures(directory, printed, name))));
        }

        var scored = candidates
            .Select(candidate => (candidate, Features: VendorPairFeatures.WithEvidence(candidate.NameFeatures, printedTaxId, candidate.Vendor, referencedPoVendor)))
            .Select(entry => (entry.candidate, entry.Features, Probability: model.VendorMatch.Probability(entry.Features)))
            .GroupBy(entry => entry.candidate.Vendor.Code, StringComparer.Ordinal)
            .Select(group => group.MaxBy(entry => entry.Probability))
            .OrderByDescending(entry => entry.Probability)
            .ThenBy(entry => entry.candidate.Vendor.Code, StringComparer.Ordinal)
            .Take(EvidenceCandidates)
            .Select(entry => new VendorCandidate(entry.candidate.Vendor.Code, entry.candidate.Name.Printed, entry.Probability, model.VendorMatch.Explain(entry.Features)))
            .ToList();

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
            var printed = VendorName.Parse(printedName);
            entry = (printed, directory.CandidatesFor(printed)
                .Select(candidate => new NameCandidate(candidate.Vendor, candidate.Name, VendorPairFeatures.NameFeatures(directory, printed, candidate.Name)))
                .ToList());
            candidatesByPrintedName[printedName] = entry;
        }

        return entry;
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
