using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Invisible.Reconciliation.Similarity;

/// <summary>
/// ML.NET's model file of a logistic regression: its input schema names every feature (the slot names of the feature
/// vector), so a file made for another feature set is recognised and refused instead of scoring the wrong numbers.
/// </summary>
public static class LogisticModelFile
{
    internal const string FeaturesColumn = "Features";
    internal const string LabelColumn = "Label";
    internal const string WeightColumn = "Weight";
    private const string SlotNamesAnnotation = "SlotNames";

    /// <summary>
    /// The linear model in <paramref name="modelFile"/> as weights and bias, its Platt calibration folded in so that
    /// <see cref="LogisticModel.Probability"/> equals ML.NET's calibrated probability.
    /// </summary>
    /// <exception cref="FormatException">Not an ML.NET logistic regression, or one over other features than <paramref name="featureNames"/>.</exception>
    public static LogisticModel Load(byte[] modelFile, IReadOnlyList<string> featureNames)
    {
        ITransformer transformer;
        DataViewSchema inputSchema;
        try
        {
            using var stream = new MemoryStream(modelFile, writable: false);
            transformer = new MLContext(LogisticTrainer.Seed).Model.Load(stream, out inputSchema);
        }
        catch (Exception error) when (error is InvalidOperationException or FormatException or InvalidDataException or ArgumentException or IOException)
        {
            throw new FormatException($"The similarity model file is not an ML.NET model ({error.Message}); retrain it.", error);
        }

        var stored = FeatureNamesOf(inputSchema);
        if (!stored.SequenceEqual(featureNames, StringComparer.Ordinal))
        {
            throw new FormatException(
                $"The similarity model file scores features [{string.Join(", ", stored)}], " +
                $"this engine computes [{string.Join(", ", featureNames)}]; retrain it.");
        }

        if (transformer is not ISingleFeaturePredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>> { Model: var calibrated })
        {
            throw new FormatException($"The similarity model file holds {transformer.GetType().Name}, not a calibrated linear binary classifier; retrain it.");
        }

        // Platt: p = 1 / (1 + exp(slope·s + offset)) with s = w·x + b, i.e. logit = -slope·(w·x) - slope·b - offset.
        var linear = calibrated.SubModel;
        var slope = (double)calibrated.Calibrator.Slope;
        var weights = linear.Weights.Select(weight => -slope * weight).ToArray();
        return new LogisticModel(featureNames.ToArray(), weights, -slope * linear.Bias - calibrated.Calibrator.Offset);
    }

    /// <summary>Feature vector of this many named slots, a label and an example weight: the schema models are trained and saved with.</summary>
    internal static SchemaDefinition SchemaOf(IReadOnlyList<string> featureNames)
    {
        var schema = SchemaDefinition.Create(typeof(ExampleRow));
        var features = schema[FeaturesColumn];
        features.ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureNames.Count);
        features.AddAnnotation(
            SlotNamesAnnotation,
            new VBuffer<ReadOnlyMemory<char>>(featureNames.Count, featureNames.Select(name => name.AsMemory()).ToArray()),
            new VectorDataViewType(TextDataViewType.Instance, featureNames.Count));
        return schema;
    }

    private static List<string> FeatureNamesOf(DataViewSchema inputSchema)
    {
        if (inputSchema.GetColumnOrNull(FeaturesColumn) is not { } features || !features.HasSlotNames())
        {
            return [];
        }

        var names = default(VBuffer<ReadOnlyMemory<char>>);
        features.GetSlotNames(ref names);
        return names.DenseValues().Select(name => name.ToString()).ToList();
    }

    internal sealed class ExampleRow
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }

        public float Weight { get; set; } = 1;
    }
}
