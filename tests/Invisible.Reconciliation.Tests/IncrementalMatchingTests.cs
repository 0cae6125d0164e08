using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Tests.Support;
using Invisible.SampleData;
using static Invisible.Reconciliation.Tests.Support.TenantBuilder;

namespace Invisible.Reconciliation.Tests;

public class IncrementalMatchingTests
{
    private static TenantBuilder Tenant() =>
        new TenantBuilder().Vendor("V1", "Acme Supplies Inc").PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", 100, 10m)).Receipt("PO-100", 1, 100)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 60, 10m)]);

    private static Invoice NewInvoice(string number, decimal quantity, DateOnly date) =>
        new($"new-{number}", number, "ACME SUPPLIES", null, date, "USD", "100", quantity * 10m, new ImportOrigin(99, 2),
            [new InvoiceLine(1, "SKU-1", "Item SKU-1", quantity, 10m, quantity * 10m, 0m, 2)]);

    [Fact]
    public void A_new_invoice_is_matched_against_the_ledger_of_every_earlier_invoice()
    {
        var session = ReconciliationEngine.StartSession(Tenant().Build(), Tolerances.Default);

        var fits = session.Match(NewInvoice("A-2", 40, new DateOnly(2026, 6, 1)));
        var overBills = session.Match(NewInvoice("A-3", 1, new DateOnly(2026, 6, 2)));

        Assert.Equal((InvoiceStatus.Matched, 100m), (fits.Status, fits.Lines[0].Evidence!.CumulativeInvoiced));
        Assert.Equal((LineStatus.QuantityVariance, 101m), (overBills.Lines[0].Status, overBills.Lines[0].Evidence!.CumulativeInvoiced));
        Assert.Equal(3, session.Result.Invoices.Count);
    }

    [Fact]
    public void Matching_incrementally_decides_like_a_full_reconcile_of_the_same_documents()
    {
        var snapshot = Tenant().Build();
        var newInvoice = NewInvoice("A-2", 30, new DateOnly(2026, 6, 1));
        var session = ReconciliationEngine.StartSession(snapshot, Tolerances.Default);

        var incremental = session.Match(newInvoice);
        var full = ReconciliationEngine.Reconcile(snapshot with { Invoices = [.. snapshot.Invoices, newInvoice] }, Tolerances.Default);

        Assert.Equal(ResultsExport.Rows(full), ResultsExport.Rows(session.Result));
        Assert.Equal(full.Invoices[^1].Explanation, incremental.Explanation);
    }

    [Fact]
    public void Reconciling_the_same_snapshot_twice_gives_equal_decisions()
    {
        var snapshot = Tenant().Invoice("A-2", "Acme Supplies", null, [("SKU-1", 50, 10.1m)]).Build();

        var first = ReconciliationEngine.Reconcile(snapshot, Tolerances.Default);
        var second = ReconciliationEngine.Reconcile(snapshot, Tolerances.Default);

        Assert.Equal(ResultsExport.Rows(first), ResultsExport.Rows(second));
        Assert.Equal(first.Invoices.Select(d => d.Explanation), second.Invoices.Select(d => d.Explanation));
    }

    [Fact]
    public void A_decision_once_made_is_not_rewritten_by_a_later_receipt()
    {
        var snapshot = new TenantBuilder().Vendor("V1", "Acme Supplies Inc").PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", 10, 10m))
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10m)]).Build();
        var session = ReconciliationEngine.StartSession(snapshot, Tolerances.Default);
        var before = session.Result.Invoices[0];

        session.Receive(new ReceiptLine("GR-1", "PO-100", 1, new DateOnly(2026, 7, 1), 10));
        var rematched = ReconciliationEngine.Reconcile(snapshot with { Receipts = [new ReceiptLine("GR-1", "PO-100", 1, new DateOnly(2026, 7, 1), 10)] }, Tolerances.Default);

        Assert.Equal(InvoiceStatus.AwaitingReceipt, before.Status);
        Assert.Equal(InvoiceStatus.AwaitingReceipt, session.Result.Invoices[0].Status);
        Assert.Equal(InvoiceStatus.Matched, rematched.Invoices[0].Status);
    }

    [Fact]
    public void A_reconcile_handed_over_in_batches_decides_exactly_what_the_whole_result_holds()
    {
        // Several of the engine's batches of 1,024, so decisions cross batch boundaries (ledger, duplicates, inference).
        var snapshot = new TenantDataGenerator(seed: 26).Generate(new GeneratorOptions { Invoices = 3_000 }).Snapshot;
        var whole = ReconciliationEngine.Reconcile(snapshot, Tolerances.Default);

        var batches = new List<IReadOnlyList<InvoiceDecision>>();
        ReconciliationEngine.Reconcile(snapshot, Tolerances.Default, batches.Add);
        var streamed = batches.SelectMany(batch => batch).ToList();

        Assert.Equal(
            whole.Invoices.Select(Described).Order(StringComparer.Ordinal),
            streamed.Select(Described).Order(StringComparer.Ordinal));
    }

    private static string Described(InvoiceDecision decision) =>
        $"{decision.InvoiceId}|{decision.Status}|{decision.VendorCode}|{decision.Po.PoNumber}|{decision.DuplicateOfInvoiceId}|{decision.Explanation}|" +
        string.Join(";", decision.Lines.Select(line => $"{line.SourceLine}:{line.Status}:{line.PoLineNo}:{line.Explanation}"));
}
