using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Tests.Support;
using Invisible.Testing;

namespace Invisible.Reconciliation.Tests;

public class SampleReconciliationTests
{
    [SpecSamplesFact]
    public void Spec_samples_reconcile_to_exactly_the_expected_results_row_by_row()
    {
        var samples = SpecSamples.Directory!;

        var expected = CanonicalCsv.ReadResults(Path.Combine(samples, "expected_results.csv"));
        var actual = ResultsExport.Rows(ReconciliationEngine.Reconcile(CanonicalCsv.ReadSnapshot(samples), Tolerances.Default));

        var mismatches = expected.Zip(actual)
            .Where(pair => pair.First != pair.Second)
            .Select(pair => $"expected {string.Join(',', pair.First.Fields)}\n  actual {string.Join(',', pair.Second.Fields)}")
            .ToList();
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
        Assert.Equal(expected.Count, actual.Count);
    }
}
