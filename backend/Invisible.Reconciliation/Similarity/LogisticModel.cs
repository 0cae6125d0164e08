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
        // An insertion sort of a handful of features, largest |contribution| first, then by name, then in feature order (what
        // a stable sort on the first two keys gives), so that only the top ones become FeatureContribution objects.
        Span<int> order = features.Length <= 64 ? stackalloc int[features.Length] : new int[features.Length];
        for (var i = 0; i < features.Length; i++)
        {
            var position = i;
            while (position > 0 && RanksBefore(features, i, order[position - 1]))
            {
                order[position] = order[position - 1];
                position--;
            }

            order[position] = i;
        }

        var kept = Math.Max(0, Math.Min(top, features.Length));
        var contributions = new List<FeatureContribution>(kept);
        foreach (var index in order[..kept])
        {
            contributions.Add(new FeatureContribution(FeatureNames[index], features[index], Weights[index] * features[index]));
        }

        return contributions;
    }

    private bool RanksBefore(ReadOnlySpan<double> features, int feature, int other)
    {
        var byInfluence = Math.Abs(Weights[feature] * features[feature]).CompareTo(Math.Abs(Weights[other] * features[other]));
        if (byInfluence != 0)
        {
            return byInfluence > 0;
        }

        var byName = string.CompareOrdinal(FeatureNames[feature], FeatureNames[other]);
        return byName != 0 ? byName < 0 : feature < other;
    }

    public static double Sigmoid(double logit) => 1.0 / (1.0 + Math.Exp(-logit));
}

/// <summary>One feature's value and its contribution to the logit of a score.</summary>
public sealed record FeatureContribution(string Feature, double Value, double Contribution)
{
    public override string ToString() => $"{Feature}={Value:0.00} ({Contribution:+0.00;-0.00})";
}
