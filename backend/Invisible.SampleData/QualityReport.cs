using System.Globalization;
using System.Text;
using Invisible.Reconciliation.Matching;

namespace Invisible.SampleData;

/// <summary>
/// How well a reconcile run agrees with the ground truth. An invoice is auto-matched when its status is
/// <c>matched</c> (eligible for auto-approval); it is auto-matched correctly when it is not a duplicate and its vendor,
/// PO and every line's PO line are the true ones.
/// </summary>
public sealed record QualityReport(
    int Invoices,
    int AutoMatched,
    int AutoMatchedCorrectly,
    int ShouldAutoMatch,
    int ShouldAutoMatchAndDid,
    int VendorResolvedCorrectly,
    int DuplicatesFlagged,
    int DuplicatesFlaggedCorrectly,
    int TrueDuplicates,
    int PosInferred,
    int PosInferredCorrectly,
    IReadOnlyDictionary<string, int> InvoicesByStatus)
{
    public double AutoMatchPrecision => Ratio(AutoMatchedCorrectly, AutoMatched);

    public double AutoMatchRecall => Ratio(ShouldAutoMatchAndDid, ShouldAutoMatch);

    public double VendorResolutionAccuracy => Ratio(VendorResolvedCorrectly, Invoices);

    public double DuplicatePrecision => Ratio(DuplicatesFlaggedCorrectly, DuplicatesFlagged);

    public double DuplicateRecall => Ratio(DuplicatesFlaggedCorrectly, TrueDuplicates);

    /// <summary>Of the POs inferred for invoices without a usable reference, the share that are the true PO.</summary>
    public double PoInferenceAccuracy => Ratio(PosInferredCorrectly, PosInferred);

    public static QualityReport Compute(ReconciliationResult result, IReadOnlyList<InvoiceTruth> truth)
    {
        var truthById = truth.ToDictionary(entry => entry.InvoiceId, StringComparer.Ordinal);
        int autoMatched = 0, autoMatchedCorrectly = 0, shouldAutoMatchAndDid = 0, vendorCorrect = 0, flagged = 0, flaggedCorrectly = 0;
        int inferred = 0, inferredCorrectly = 0;
        foreach (var decision in result.Invoices)
        {
            var expected = truthById[decision.InvoiceId];
            vendorCorrect += decision.VendorCode == expected.VendorCode ? 1 : 0;
            if (decision.Po.IdentifiedBy == PoIdentifiedBy.Inferred)
            {
                inferred++;
                inferredCorrectly += decision.Po.PoNumber == expected.PoNumber ? 1 : 0;
            }

            if (decision.Status == InvoiceStatus.Duplicate)
            {
                flagged++;
                flaggedCorrectly += expected.DuplicateOfInvoiceId is not null ? 1 : 0;
            }

            if (decision.Status == InvoiceStatus.Matched)
            {
                autoMatched++;
                var isCorrect = IsCorrectMatch(decision, expected);
                autoMatchedCorrectly += isCorrect ? 1 : 0;
                shouldAutoMatchAndDid += isCorrect && expected.ShouldAutoMatch ? 1 : 0;
            }
        }

        return new QualityReport(
            result.Invoices.Count,
            autoMatched,
            autoMatchedCorrectly,
            truth.Count(entry => entry.ShouldAutoMatch),
            shouldAutoMatchAndDid,
            vendorCorrect,
            flagged,
            flaggedCorrectly,
            truth.Count(entry => entry.DuplicateOfInvoiceId is not null),
            inferred,
            inferredCorrectly,
            result.Invoices.GroupBy(decision => decision.Status.ToExportName()).ToDictionary(group => group.Key, group => group.Count()));
    }

    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"invoices                   {Invoices}");
        text.AppendLine(CultureInfo.InvariantCulture, $"auto-match precision       {AutoMatchPrecision:P2} ({AutoMatchedCorrectly}/{AutoMatched})");
        text.AppendLine(CultureInfo.InvariantCulture, $"auto-match recall          {AutoMatchRecall:P2} ({ShouldAutoMatchAndDid}/{ShouldAutoMatch})");
        text.AppendLine(CultureInfo.InvariantCulture, $"vendor-resolution accuracy {VendorResolutionAccuracy:P2} ({VendorResolvedCorrectly}/{Invoices})");
        text.AppendLine(CultureInfo.InvariantCulture, $"duplicate precision        {DuplicatePrecision:P2} ({DuplicatesFlaggedCorrectly}/{DuplicatesFlagged})");
        text.AppendLine(CultureInfo.InvariantCulture, $"duplicate recall           {DuplicateRecall:P2} ({DuplicatesFlaggedCorrectly}/{TrueDuplicates})");
        text.AppendLine(CultureInfo.InvariantCulture, $"PO inference accuracy      {PoInferenceAccuracy:P2} ({PosInferredCorrectly}/{PosInferred})");
        text.Append("statuses                   ").AppendJoin(", ", InvoicesByStatus.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key} {pair.Value}"));
        return text.ToString();
    }

    private static bool IsCorrectMatch(InvoiceDecision decision, InvoiceTruth expected)
    {
        if (expected.DuplicateOfInvoiceId is not null || decision.VendorCode != expected.VendorCode || decision.Po.PoNumber != expected.PoNumber)
        {
            return false;
        }

        var truePoLines = expected.Lines.ToDictionary(line => line.SourceLine, line => line.PoLineNo);
        return decision.Lines.All(line => truePoLines[line.SourceLine] == line.PoLineNo);
    }

    private static double Ratio(int part, int whole) => whole == 0 ? 1 : (double)part / whole;
}
