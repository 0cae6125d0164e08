using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Tests.Support;
using Invisible.Testing;
using Invisible.Reconciliation.Vendors;
using Invisible.SampleData;
using Xunit.Abstractions;

namespace Invisible.Reconciliation.Tests;

public class SimilarityModelTests(ITestOutputHelper output)
{
    private static readonly Vendor[] Master =
    [
        new("V1", "Acme Holdings Inc"),
        new("V2", "Acme Group Ltd"),
        new("V3", "Beta Group Ltd"),
        new("V4", "Summit Industrial Supply Inc", "71-9518662"),
        new("V5", "Vertex Industrial Supply Limited", "19-5037248"),
        new("V6", "Beacon Facility Services GmbH"),
        new("V7", "Bluewater Hardware Corporation"),
        new("V8", "Oakmont Office Products B.V."),
    ];

    [Fact]
    public void Logistic_trainer_recovers_a_separable_rule_and_explains_with_the_deciding_feature()
    {
        var examples = Enumerable.Range(0, 200)
            .Select(i => new LabelledExample([i % 2, (i * 7 % 10) / 10.0], IsMatch: i % 2 == 1))
            .ToList();

        var model = LogisticTrainer.Fit(["decisive", "noise"], examples, l2Penalty: 0.1f).Model;

        Assert.True(model.Probability([1, 0.5]) > 0.95);
        Assert.True(model.Probability([0, 0.5]) < 0.05);
        Assert.Equal("decisive", model.Explain([1, 0.5])[0].Feature);
    }

    [Fact]
    public void Training_is_deterministic_given_the_same_master_decisions_and_seed()
    {
        var first = SimilarityModelTrainer.Train(Master, [], version: 1);
        var second = SimilarityModelTrainer.Train(Master, [], version: 1);

        Assert.Equal(WeightsOf(first), WeightsOf(second));
    }

    [Fact]
    public void The_same_training_data_gives_model_files_that_score_every_pair_alike()
    {
        var tenant = new TenantDataGenerator(seed: 5).Generate(new GeneratorOptions { Invoices = 200 }).Snapshot;
        var first = SimilarityModelTrainer.Train(tenant.Vendors, [], version: 1);
        var second = SimilarityModelTrainer.Train(tenant.Vendors, [], version: 1);
        var firstLoaded = SimilarityModel.FromModelFile(1, first.ModelFile!, first.TrainingExamples);
        var secondLoaded = SimilarityModel.FromModelFile(1, second.ModelFile!, second.TrainingExamples);

        var printed = tenant.Invoices.Select(invoice => (invoice.PrintedVendorName, invoice.PrintedTaxId, (Vendor?)null)).ToList();
        var directory = new VendorDirectory(tenant.Vendors);
        string Scores(SimilarityModel model) => string.Join('\n', new VendorResolver(directory, model).ResolveAll(printed)
            .Select(resolution => string.Join(';', resolution.Evidence.TopCandidates.Select(candidate => $"{candidate.VendorCode}={candidate.Probability:R}"))));

        Assert.Equal(Scores(firstLoaded), Scores(secondLoaded));
    }

    [Fact]
    public void A_model_file_loads_back_to_the_weights_it_was_trained_to()
    {
        var model = SimilarityModelTrainer.Train(Master, [new ReviewerVendorDecision("ACME HLDGS", null, "V1", true)], version: 3);

        var restored = SimilarityModel.FromModelFile(3, model.ModelFile!, model.TrainingExamples);

        Assert.Equal(WeightsOf(model), WeightsOf(restored));
    }

    [Fact]
    public void A_model_file_trained_on_other_features_is_refused_with_a_clear_error()
    {
        string[] otherFeatures = [.. VendorPairFeatures.Names.Take(VendorPairFeatures.Names.Count - 1), "something_else"];
        var examples = Enumerable.Range(0, 40)
            .Select(i => new LabelledExample(Enumerable.Range(0, otherFeatures.Length).Select(j => (double)((i + j) % 3)).ToArray(), IsMatch: i % 2 == 0))
            .ToList();
        var otherModelFile = LogisticTrainer.Fit(otherFeatures, examples).ModelFile;

        var error = Assert.Throws<FormatException>(() => SimilarityModel.FromModelFile(2, otherModelFile, examples.Count));

        Assert.Matches("version 2.*something_else.*referenced_po_of_vendor.*retrain", error.Message);
    }

    [Fact]
    public void Bytes_that_are_not_an_ML_NET_model_file_are_refused_with_a_clear_error()
    {
        var error = Assert.Throws<FormatException>(() => SimilarityModel.FromModelFile(1, "{\"intercept\": 0.1}"u8.ToArray(), 0));

        Assert.Contains("not an ML.NET model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trained_model_keeps_the_rules_variants_resolve_and_shared_words_do_not()
    {
        var resolver = new VendorResolver(new VendorDirectory(Master), SimilarityModelTrainer.Train(Master, [], version: 1));

        Assert.Equal("V1", resolver.Resolve("ACME Holdings, Inc.", null, null).Vendor?.Code);
        Assert.Equal("V6", resolver.Resolve("Beacon Fac. Svcs Gmbh", null, null).Vendor?.Code);
        Assert.Equal("V7", resolver.Resolve("Bluewtaer Hardware Corp", null, null).Vendor?.Code);
        Assert.Null(new VendorResolver(new VendorDirectory(Master.Where(v => v.Code != "V2").ToList()), SimilarityModelTrainer.Train(Master, [], 1))
            .Resolve("Acme Group Ltd", null, null).Vendor);
    }

    [Fact]
    public void Reviewers_confirming_an_abbreviated_name_raise_its_score()
    {
        var untaught = SimilarityModelTrainer.Train(Master, [], version: 1);
        var decisions = Enumerable.Repeat(new ReviewerVendorDecision("Bluewater Hdw Corp", null, "V7", true), 5).ToList();
        var taught = SimilarityModelTrainer.Train(Master, decisions, version: 2);
        var directory = new VendorDirectory(Master);

        var before = new VendorResolver(directory, untaught).Resolve("Bluewater Hdw Corp", null, null).Score;
        var after = new VendorResolver(directory, taught).Resolve("Bluewater Hdw Corp", null, null).Score;

        output.WriteLine($"before {before:0.000}, after {after:0.000}");
        Assert.True(after >= before);
        Assert.Equal("V7", new VendorResolver(directory, taught).Resolve("Bluewater Hdw Corp", null, null).Vendor?.Code);
    }

    [Fact]
    public void A_trained_model_trusts_a_matching_tax_id_for_a_trading_name()
    {
        var resolver = new VendorResolver(new VendorDirectory(Master), SimilarityModelTrainer.Train(Master, [], version: 1));

        Assert.Equal("V4", resolver.Resolve("Summit Tools", "71-9518662", null).Vendor?.Code);
        Assert.Null(resolver.Resolve("Summit Tools", null, null).Vendor);
    }

    [SpecSamplesFact]
    public void Spec_samples_reconcile_exactly_with_a_model_trained_on_their_vendor_master()
    {
        var samples = SpecSamples.Directory!;
        var snapshot = CanonicalCsv.ReadSnapshot(samples);
        var model = SimilarityModelTrainer.Train(snapshot.Vendors, [], version: 1);

        var actual = ResultsExport.Rows(ReconciliationEngine.Reconcile(snapshot, Tolerances.Default, model));

        Assert.Equal(CanonicalCsv.ReadResults(Path.Combine(samples, "expected_results.csv")), actual);
    }

    [Fact]
    public void A_model_trained_on_a_generated_master_resolves_generated_invoices()
    {
        var tenant = new TenantDataGenerator(seed: 11).Generate(new GeneratorOptions { Invoices = 1_000 });
        var model = SimilarityModelTrainer.Train(tenant.Snapshot.Vendors, [], version: 1);

        var report = QualityReport.Compute(ReconciliationEngine.Reconcile(tenant.Snapshot, Tolerances.Default, model), tenant.Truth);

        output.WriteLine(string.Join(", ", model.VendorMatch.FeatureNames.Zip(model.VendorMatch.Weights, (name, weight) => $"{name} {weight:0.00}")) +
            $", bias {model.VendorMatch.Bias:0.00}");
        output.WriteLine(report.ToText());
        Assert.True(report.VendorResolutionAccuracy >= 0.99, report.ToText());
        Assert.True(report.AutoMatchPrecision >= 0.995, report.ToText());
    }

    [Fact]
    public void The_engine_decides_with_the_model_the_snapshot_carries_unless_one_is_passed()
    {
        var snapshot = new TenantSnapshot(Master, [], [], []) { SimilarityModel = SimilarityModelTrainer.Train(Master, [], version: 4) };
        var passed = SimilarityModelTrainer.Train(Master, [], version: 5);

        Assert.Equal(4, ReconciliationEngine.Reconcile(snapshot, Tolerances.Default).SimilarityModelVersion);
        Assert.Equal(5, ReconciliationEngine.Reconcile(snapshot, Tolerances.Default, passed).SimilarityModelVersion);
        Assert.Equal(0, ReconciliationEngine.Reconcile(snapshot with { SimilarityModel = null }, Tolerances.Default).SimilarityModelVersion);
    }

    [Fact]
    public void Printed_names_known_for_a_vendor_become_matching_pairs_and_training_stays_deterministic()
    {
        var withAlias = Master.Select(vendor => vendor.Code == "V7" ? vendor with { Aliases = ["Bluewater Hdw Co"] } : vendor).ToList();

        var plain = SimilarityModelTrainer.TrainWithMetrics(Master, [], version: 1);
        var taught = SimilarityModelTrainer.TrainWithMetrics(withAlias, [], version: 1);

        Assert.Equal(plain.Examples + plain.HeldBack.Pairs + 1, taught.Examples + taught.HeldBack.Pairs);
        Assert.Equal(plain.MatchingExamples + plain.HeldBack.MatchingPairs + 1, taught.MatchingExamples + taught.HeldBack.MatchingPairs);
        Assert.Equal(WeightsOf(taught.Model), WeightsOf(SimilarityModelTrainer.TrainWithMetrics(withAlias, [], version: 1).Model));
        Assert.InRange(taught.TrainingAccuracy, 0.9, 1.0);
    }

    [Fact]
    public void Training_holds_back_one_in_five_labelled_pairs_the_same_way_each_time_and_measures_the_model_on_them()
    {
        var decisions = new[] { new ReviewerVendorDecision("Bluewater Hdw", null, "V7", IsSameVendor: true) };

        var trained = SimilarityModelTrainer.TrainWithMetrics(Master, decisions, version: 1);
        var again = SimilarityModelTrainer.TrainWithMetrics(Master, decisions, version: 1);
        var share = (double)trained.HeldBack.Pairs / (trained.Examples + trained.HeldBack.Pairs);

        Assert.True(
            share is > 0.15 and < 0.25 && trained.HeldBack.Precision >= 0.9 && trained.HeldBack.Recall >= 0.9 && trained.HeldBack == again.HeldBack,
            $"held back {trained.HeldBack.Pairs} of {trained.Examples + trained.HeldBack.Pairs} ({share:P1}): precision {trained.HeldBack.Precision:P1}, " +
            $"recall {trained.HeldBack.Recall:P1}; again {again.HeldBack}");
    }

    private static string WeightsOf(SimilarityModel model) =>
        string.Join(", ", model.VendorMatch.FeatureNames.Zip(model.VendorMatch.Weights, (name, weight) => $"{name} {weight:R}")) + $", bias {model.VendorMatch.Bias:R}";
}
