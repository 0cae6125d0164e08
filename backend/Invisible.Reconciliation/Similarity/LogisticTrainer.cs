using MathNet.Numerics.LinearAlgebra;

namespace Invisible.Reconciliation.Similarity;

/// <summary>
/// Deterministic L2-regularised logistic regression by Newton's method (IRLS): the same examples in the same order give
/// the same weights, bit for bit, on every machine.
/// </summary>
public static class LogisticTrainer
{
    public static LogisticModel Fit(
        IReadOnlyList<string> featureNames,
        IReadOnlyList<LabelledExample> examples,
        double l2Penalty = 1.0,
        int maxIterations = 25)
    {
        if (examples.Count == 0)
        {
            throw new ArgumentException("Cannot train a model without examples.", nameof(examples));
        }

        var width = featureNames.Count + 1;
        var design = Matrix<double>.Build.Dense(examples.Count, width, (row, column) =>
            column == 0 ? 1.0 : examples[row].Features[column - 1]);
        var labels = Vector<double>.Build.Dense(examples.Count, row => examples[row].IsMatch ? 1.0 : 0.0);
        var sampleWeights = Vector<double>.Build.Dense(examples.Count, row => examples[row].Weight);

        // The intercept is not penalised: shrinking it would bias every probability towards one half.
        var penalty = Matrix<double>.Build.DenseDiagonal(width, width, l2Penalty);
        penalty[0, 0] = 0;

        var coefficients = Vector<double>.Build.Dense(width);
        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            var predicted = (design * coefficients).Map(LogisticModel.Sigmoid);
            var gradient = design.TransposeThisAndMultiply((predicted - labels).PointwiseMultiply(sampleWeights)) + penalty * coefficients;
            var curvature = predicted.PointwiseMultiply(1 - predicted).PointwiseMultiply(sampleWeights).Map(v => Math.Max(v, 1e-9));
            var weightedDesign = Matrix<double>.Build.Dense(design.RowCount, width, (row, column) => design[row, column] * curvature[row]);
            var hessian = design.TransposeThisAndMultiply(weightedDesign) + penalty;
            var step = hessian.Solve(gradient);
            coefficients -= step;
            if (step.AbsoluteMaximum() < 1e-8)
            {
                break;
            }
        }

        return new LogisticModel(featureNames.ToArray(), coefficients.SubVector(1, width - 1).ToArray(), coefficients[0]);
    }
}

/// <summary>A training example: features, whether the pair is the same thing, and how much it counts (reviewers' decisions count more).</summary>
public sealed record LabelledExample(double[] Features, bool IsMatch, double Weight = 1.0);
