using System.Text.Json;

namespace Invisible.Reconciliation.Similarity;

/// <summary>
/// A tenant's similarity model: the logistic-regression scorer for "printed vendor = master vendor", versioned and
/// serialisable so the storage layer can persist one per tenant and decisions can name the version that scored them.
/// </summary>
/// <param name="Version">0 for the built-in prior; trained models count up from 1.</param>
/// <param name="TrainingExamples">How many labelled pairs it was fitted on (0 for the prior).</param>
public sealed record SimilarityModel(int Version, LogisticModel VendorMatch, int TrainingExamples)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    /// <summary>
    /// Hand-set weights used until a tenant has trained its own model: the name must agree on its distinctive words (an
    /// identical name once normalised is decisive), and a matching tax id or a referenced PO of the vendor each nearly
    /// suffice on their own.
    /// </summary>
    public static SimilarityModel Prior { get; } = new(
        0,
        new LogisticModel(VendorPairFeatures.Names, [3.0, 8.0, 2.0, 2.0, 2.0, 6.0, 5.0], -10.0),
        0);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static SimilarityModel FromJson(string json)
    {
        var model = JsonSerializer.Deserialize<SimilarityModel>(json, JsonOptions)
            ?? throw new FormatException("The similarity model JSON is empty.");
        if (!model.VendorMatch.FeatureNames.SequenceEqual(VendorPairFeatures.Names) || model.VendorMatch.Weights.Count != VendorPairFeatures.Names.Count)
        {
            throw new FormatException(
                $"Similarity model version {model.Version} has features [{string.Join(", ", model.VendorMatch.FeatureNames)}], " +
                $"this engine computes [{string.Join(", ", VendorPairFeatures.Names)}]; retrain it.");
        }

        return model;
    }
}
