namespace Invisible.Reconciliation.Vendors;

/// <summary>Precision, recall and their harmonic mean; each 1 when there was nothing to find and nothing was claimed.</summary>
public readonly record struct PrecisionRecall(double Precision, double Recall)
{
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>How well predicted clusters agree with the true ones, pairwise and B-cubed.</summary>
public sealed record ClusterScores(PrecisionRecall Pairwise, PrecisionRecall BCubed, int Items, int TruePairs, int PredictedPairs, int CorrectPairs);

/// <summary>
/// Scores a clustering against labels. Pairwise: over all pairs of items, those put together that belong together.
/// B-cubed: for each item, the share of its predicted cluster that truly belongs with it (precision) and the share of its
/// true cluster that was put with it (recall), averaged over items, so that big clusters do not dominate.
/// </summary>
public static class ClusterEvaluation
{
    /// <param name="predicted">Each item's predicted cluster (an item alone in its cluster is a singleton).</param>
    /// <param name="truth">Each item's true cluster.</param>
    public static ClusterScores Score(IReadOnlyList<string> predicted, IReadOnlyList<string> truth)
    {
        if (predicted.Count != truth.Count)
        {
            throw new ArgumentException("Every item needs a predicted and a true cluster.", nameof(predicted));
        }

        var both = new Dictionary<(string, string), int>();
        var predictedSizes = new Dictionary<string, int>(StringComparer.Ordinal);
        var trueSizes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < predicted.Count; i++)
        {
            both[(predicted[i], truth[i])] = both.GetValueOrDefault((predicted[i], truth[i])) + 1;
            predictedSizes[predicted[i]] = predictedSizes.GetValueOrDefault(predicted[i]) + 1;
            trueSizes[truth[i]] = trueSizes.GetValueOrDefault(truth[i]) + 1;
        }

        static int Pairs(int n) => n * (n - 1) / 2;
        var correctPairs = both.Values.Sum(Pairs);
        var predictedPairs = predictedSizes.Values.Sum(Pairs);
        var truePairs = trueSizes.Values.Sum(Pairs);
        var pairwise = new PrecisionRecall(
            predictedPairs == 0 ? 1 : (double)correctPairs / predictedPairs,
            truePairs == 0 ? 1 : (double)correctPairs / truePairs);

        double precision = 0, recall = 0;
        for (var i = 0; i < predicted.Count; i++)
        {
            var together = both[(predicted[i], truth[i])];
            precision += (double)together / predictedSizes[predicted[i]];
            recall += (double)together / trueSizes[truth[i]];
        }

        var bCubed = predicted.Count == 0 ? new PrecisionRecall(1, 1) : new PrecisionRecall(precision / predicted.Count, recall / predicted.Count);
        return new ClusterScores(pairwise, bCubed, predicted.Count, truePairs, predictedPairs, correctPairs);
    }
}
