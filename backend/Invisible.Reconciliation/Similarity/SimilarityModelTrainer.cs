using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Vendors;

namespace Invisible.Reconciliation.Similarity;

/// <summary>A reviewer's answer to "is this printed vendor that master vendor?", recorded when an exception is resolved.</summary>
public sealed record ReviewerVendorDecision(string PrintedName, string? PrintedTaxId, string VendorCode, bool IsSameVendor);

/// <summary>
/// Trains a tenant's similarity model from its own vendor master (each name against synthetic printed variants of itself
/// and of its most similar other vendors) plus reviewers' decisions, which weigh more. Deterministic: the same master,
/// decisions and seed give the same model.
/// </summary>
/// <remarks>
/// ML.NET text featurisation of names was measured and left out (issue #18: "where it measurably helps"). The variant
/// added an eighth feature, the cosine of the two names' ML.NET vectors (TokenizeIntoCharactersAsKeys with markers,
/// ProduceHashedNgrams of lengths 1-3 in 2^16 slots, NormalizeLpNorm), to the seven explicit ones. On the quality set
/// of <c>bench match</c> (seed 20261122, 20,000 invoices, 400 vendors, 15,194 training pairs), each model trained here:
/// <code>
///                     precision  recall   vendor   PO       duplicates P/R   training log-loss
///   7 features        99.980 %   99.389 % 99.971 % 99.945 % 100 / 99.825 %   0.02305
///   + text n-grams    99.980 %   99.389 % 99.971 % 99.945 % 100 / 99.825 %   0.02265
/// </code>
/// and the same figures with and without it on generated tenants of 1,000 (seed 11) and 5,000 (seed 7) invoices. The
/// existing trigram-overlap and Jaro-Winkler features already carry what character n-grams say, so the extra feature
/// only costs a featurisation per distinct name.
/// </remarks>
public static class SimilarityModelTrainer
{
    private const int VariantsPerVendor = 6;
    private const int TradingNamesPerVendor = 2;
    private const int NearestOtherVendors = 4;
    private const double ReviewerDecisionWeight = 5.0;
    private static readonly string[] TradingWords = ["Trading", "Direct", "Online", "Store", "Solutions", "Partners"];

    /// <summary>
    /// Identifies this trainer's recipe (feature set and how pairs are built) in a training-set fingerprint: when it
    /// changes, every persisted model is stale and is retrained.
    /// </summary>
    public const string RecipeVersion = "vendor-name/4 (ML.NET)";

    private static bool ProbablyTheSame(Vendor vendor, VendorName master, Vendor other) =>
        VendorName.Parse(other.Name).Key == master.Key || VendorPairFeatures.TaxIdAgreement(vendor.TaxId, other.TaxId) > 0;

    public static SimilarityModel Train(IReadOnlyList<Vendor> vendors, IReadOnlyList<ReviewerVendorDecision> decisions, int version, int seed = 1) =>
        TrainWithMetrics(vendors, decisions, version, seed).Model;

    /// <summary>
    /// As <see cref="Train"/>, with how well the model fits its own training pairs. Besides the master names, each name
    /// a vendor is known to print (<see cref="Vendor.Aliases"/>) is a matching pair against the master name.
    /// </summary>
    public static TrainedSimilarityModel TrainWithMetrics(
        IReadOnlyList<Vendor> vendors, IReadOnlyList<ReviewerVendorDecision> decisions, int version, int seed = 1)
    {
        if (vendors.Count < 2)
        {
            throw new ArgumentException("Training needs at least two vendors: there is nothing to tell apart otherwise.", nameof(vendors));
        }

        var directory = new VendorDirectory(vendors);
        var random = new Random(seed);
        var examples = new List<LabelledExample>();
        foreach (var vendor in vendors.OrderBy(vendor => vendor.Code, StringComparer.Ordinal))
        {
            var master = VendorName.Parse(vendor.Name);
            // A master with duplicates in it (the same name once normalised, or the same tax id) must not teach the model that
            // such vendors are different companies: those are no negatives.
            var others = directory.CandidatesFor(master).Select(candidate => candidate.Vendor).Where(other => other.Code != vendor.Code)
                .Distinct().Where(other => !ProbablyTheSame(vendor, master, other)).Take(NearestOtherVendors).ToList();
            if (vendors[random.Next(vendors.Count)] is var randomOther && !ProbablyTheSame(vendor, master, randomOther))
            {
                others.Add(randomOther);
            }
            for (var i = 0; i < VariantsPerVendor; i++)
            {
                var printed = VendorName.Parse(PrintedNameVariants.Variant(vendor.Name, random));
                var printedTaxId = random.NextDouble() < 0.5 ? vendor.TaxId : null;
                var poVendor = random.NextDouble() < 0.3 ? vendor : null;
                examples.Add(new LabelledExample(VendorPairFeatures.Compute(directory, printed, printedTaxId, vendor, master, poVendor), true));
                foreach (var other in others.Where(other => other.Code != vendor.Code))
                {
                    // A PO reference now and then points at the wrong vendor's PO (a typo); the name must still be able to outvote it.
                    var wrongPoVendor = random.NextDouble() < 0.05 ? other : null;
                    examples.Add(new LabelledExample(
                        VendorPairFeatures.Compute(directory, printed, printedTaxId, other, VendorName.Parse(other.Name), wrongPoVendor), false));
                }
            }

            // Suppliers also print trading names that share little with the master name; then the tax id or the referenced
            // PO is what identifies them, and the model must learn to trust that evidence.
            for (var i = 0; i < TradingNamesPerVendor; i++)
            {
                var tradingName = VendorName.Parse($"{master.Tokens[0]} {TradingWords[random.Next(TradingWords.Length)]}");
                var byTaxId = vendor.TaxId is not null && random.NextDouble() < 0.5;
                examples.Add(new LabelledExample(
                    VendorPairFeatures.Compute(directory, tradingName, byTaxId ? vendor.TaxId : null, vendor, master, byTaxId ? null : vendor), true));
            }
        }

        foreach (var vendor in vendors.OrderBy(vendor => vendor.Code, StringComparer.Ordinal))
        {
            var master = VendorName.Parse(vendor.Name);
            foreach (var alias in vendor.Aliases)
            {
                examples.Add(new LabelledExample(VendorPairFeatures.Compute(directory, VendorName.Parse(alias), null, vendor, master, null), true));
            }
        }

        foreach (var decision in decisions)
        {
            if (directory.FindByCode(decision.VendorCode) is not { } vendor)
            {
                continue;
            }

            examples.Add(new LabelledExample(
                VendorPairFeatures.Compute(directory, VendorName.Parse(decision.PrintedName), decision.PrintedTaxId, vendor, VendorName.Parse(vendor.Name), null),
                decision.IsSameVendor,
                ReviewerDecisionWeight));
        }

        var fitted = LogisticTrainer.Fit(VendorPairFeatures.Names, examples);
        var model = new SimilarityModel(version, fitted.Model, examples.Count) { ModelFile = fitted.ModelFile };
        double correct = 0, logLoss = 0, totalWeight = 0;
        foreach (var example in examples)
        {
            var probability = Math.Clamp(model.VendorMatch.Probability(example.Features), 1e-12, 1 - 1e-12);
            correct += (probability >= 0.5) == example.IsMatch ? example.Weight : 0;
            logLoss -= example.Weight * Math.Log(example.IsMatch ? probability : 1 - probability);
            totalWeight += example.Weight;
        }

        return new TrainedSimilarityModel(model, examples.Count, examples.Count(example => example.IsMatch), correct / totalWeight, logLoss / totalWeight);
    }
}

/// <summary>A freshly trained model with how it fits its training pairs (weighted as trained).</summary>
public sealed record TrainedSimilarityModel(SimilarityModel Model, int Examples, int MatchingExamples, double TrainingAccuracy, double TrainingLogLoss);
