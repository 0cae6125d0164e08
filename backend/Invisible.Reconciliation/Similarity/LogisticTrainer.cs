using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Invisible.Reconciliation.Similarity;

/// <summary>
/// L2-regularised logistic regression fitted by ML.NET's L-BFGS trainer on one thread with a fixed seed, so the same
/// examples in the same order give the same weights on every run. The result is ML.NET's model file (the artefact a
/// tenant's model is stored as) and the linear model read back from it, which is what scores pairs on the hot path.
/// </summary>
public static class LogisticTrainer
{
    /// <summary>ML.NET's seed: L-BFGS starts from zero weights and draws nothing, but every context of ours is seeded alike.</summary>
    public const int Seed = 1;

    /// <summary>What trained a model, as recorded in its metrics.</summary>
    public const string Name = "ML.NET L-BFGS logistic regression";

    public static TrainedLogisticModel Fit(
        IReadOnlyList<string> featureNames,
        IReadOnlyList<LabelledExample> examples,
        float l2Penalty = 1.0f)
    {
        if (examples.Count == 0)
        {
            throw new ArgumentException("Cannot train a model without examples.", nameof(examples));
        }

        var context = new MLContext(Seed);
        var rows = examples.Select(example => new LogisticModelFile.ExampleRow
        {
            Features = Array.ConvertAll(example.Features, value => (float)value),
            Label = example.IsMatch,
            Weight = (float)example.Weight,
        });
        var data = context.Data.LoadFromEnumerable(rows, LogisticModelFile.SchemaOf(featureNames));

        // The loss is the weighted sum over examples plus l2Penalty/2·|w|², the intercept unpenalised (shrinking it would
        // bias every probability towards one half); no L1, which would drop features a tenant's data rarely exercises.
        var trainer = context.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = LogisticModelFile.LabelColumn,
            FeatureColumnName = LogisticModelFile.FeaturesColumn,
            ExampleWeightColumnName = LogisticModelFile.WeightColumn,
            L2Regularization = l2Penalty,
            L1Regularization = 0,
            OptimizationTolerance = 1e-7f,
            NumberOfThreads = 1,
            ShowTrainingStatistics = false,
        });
        var transformer = trainer.Fit(data);

        using var file = new MemoryStream();
        context.Model.Save(transformer, data.Schema, file);
        var bytes = file.ToArray();
        return new TrainedLogisticModel(LogisticModelFile.Load(bytes, featureNames), bytes);
    }
}

/// <summary>A training example: features, whether the pair is the same thing, and how much it counts (reviewers' decisions count more).</summary>
public sealed record LabelledExample(double[] Features, bool IsMatch, double Weight = 1.0);

/// <summary>A fitted model as ML.NET saved it (<see cref="ModelFile"/>) and as it scores (<see cref="Model"/>).</summary>
public sealed record TrainedLogisticModel(LogisticModel Model, byte[] ModelFile);
