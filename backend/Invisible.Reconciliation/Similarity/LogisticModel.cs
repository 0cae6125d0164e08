namespace Invisible.Reconciliation.Similarity;

/// <summary>A fitted logistic regression over named features: p = σ(bias + Σ wᵢ·xᵢ).</summary>
public sealed record LogisticModel(IReadOnlyList<string> FeatureNames, IReadOnlyList<double> Weights, double Bias)
{
    public double Probability(ReadOnlySpan<double> features) => Sigmoid(Logit(features));

    public double Logit(ReadOnlySpan<double> features)
    {
        if (features.Length != Weights.Count)
        {
            throw new ArgumentException($"Expected {Weights.Count} features ({string.Join(", ", FeatureNames)}), got {features.Length}.", nameof(features));
        }

        var logit = Bias;
        for (var i = 0; i < features.Length; i++)
        {
            logit += Weights[i] * features[i];
        }

        return logit;
    }

    /// <summary>Each feature's share of the logit, largest influence first: what a reviewer reads as "why".</summary>
    public IReadOnlyList<FeatureContribution> Explain(ReadOnlySpan<double> features, int top = 3)
    {
        var contributions = new FeatureContribution[features.Length];
        for (var i = 0; i < features.Length; i++)
        {
            contributions[i] = new FeatureContribution(FeatureNames[i], features[i], Weights[i] * features[i]);
        }

        return contributions.OrderByDescending(c => Math.Abs(c.Contribution)).ThenBy(c => c.Feature, StringComparer.Ordinal).Take(top).ToList();
    }

    public static double Sigmoid(double logit) => 1.0 / (1.0 + Math.Exp(-logit));
}

/// <summary>One feature's value and its contribution to the logit of a score.</summary>
public sealed record FeatureContribution(string Feature, double Value, double Contribution)
{
    public override string ToString() => $"{Feature}={Value:0.00} ({Contribution:+0.00;-0.00})";
}
