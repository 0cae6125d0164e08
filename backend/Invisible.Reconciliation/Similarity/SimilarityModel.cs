namespace Invisible.Reconciliation.Similarity;

/// <summary>
/// A tenant's similarity model: the logistic-regression scorer for "printed vendor = master vendor", versioned so that
/// decisions can name the version that scored them. A trained model carries ML.NET's model file it was read from, which
/// is what the storage layer persists per tenant.
/// </summary>
/// <param name="Version">0 for the built-in prior; trained models count up from 1.</param>
/// <param name="TrainingExamples">How many labelled pairs it was fitted on (0 for the prior).</param>
public sealed record SimilarityModel(int Version, LogisticModel VendorMatch, int TrainingExamples)
{
    /// <summary>ML.NET's model file of <see cref="VendorMatch"/>; null for the prior, which was never trained.</summary>
    public byte[]? ModelFile { get; init; }

    /// <summary>
    /// Hand-set weights used until a tenant has trained its own model: the name must agree on its distinctive words (an
    /// identical name once normalised is decisive), and a matching tax id or a referenced PO of the vendor each nearly
    /// suffice on their own.
    /// </summary>
    public static SimilarityModel Prior { get; } = new(
        0,
        new LogisticModel(VendorPairFeatures.Names, [3.0, 8.0, 2.0, 2.0, 2.0, 6.0, 5.0], -10.0),
        0);

    /// <summary>A stored model back from its ML.NET model file.</summary>
    /// <exception cref="FormatException">The file is not an ML.NET logistic regression over <see cref="VendorPairFeatures.Names"/>.</exception>
    public static SimilarityModel FromModelFile(int version, byte[] modelFile, int trainingExamples)
    {
        try
        {
            return new(version, LogisticModelFile.Load(modelFile, VendorPairFeatures.Names), trainingExamples) { ModelFile = modelFile };
        }
        catch (FormatException error)
        {
            throw new FormatException($"Similarity model version {version}: {error.Message}", error);
        }
    }
}
