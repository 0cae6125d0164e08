using System.Text.Json;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Similarity;
using Invisible.Reconciliation.Vendors;
using Invisible.Reconciliation.Tests.Support;
using Invisible.SampleData;
using static Invisible.Reconciliation.Tests.Support.TenantBuilder;

namespace Invisible.Reconciliation.Tests;

/// <summary>
/// The full reconcile takes shortcuts for speed: it prepares every invoice over all cores, resolves vendors in bulk and
/// remembers parts of resolutions across printed names, counts open PO lines instead of scanning them. These tests hold
/// each shortcut to the straightforward computation it replaces, on generated tenants with every supplier habit.
/// </summary>
public class EngineEquivalenceTests
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private static (TenantSnapshot Snapshot, SimilarityModel Model) GeneratedTenant(int seed, int invoices)
    {
        var snapshot = new TenantDataGenerator(seed).Generate(new GeneratorOptions { Invoices = invoices }).Snapshot;
        return (snapshot, SimilarityModelTrainer.Train(snapshot.Vendors, [], version: 1));
    }

    /// <summary>Every field of a decision, its evidence and explanations included.</summary>
    private static string Everything(InvoiceDecision decision) => JsonSerializer.Serialize(decision, Json);

    [Fact]
    public void A_full_reconcile_decides_every_invoice_exactly_as_matching_them_one_at_a_time()
    {
        var (snapshot, model) = GeneratedTenant(seed: 17, invoices: 1_500);

        var full = ReconciliationEngine.Reconcile(snapshot, Tolerances.Default, model);
        var oneByOne = new MatchingSession(snapshot, Tolerances.Default, model);
        foreach (var invoice in ReconciliationEngine.InProcessingOrder(snapshot.Invoices))
        {
            oneByOne.Match(invoice);
        }

        Assert.Equal(oneByOne.Result.Invoices.Select(Everything), full.Invoices.Select(Everything));
    }

    [Fact]
    public void Every_vendor_resolution_equals_one_made_by_a_resolver_that_has_resolved_nothing_else()
    {
        var (snapshot, model) = GeneratedTenant(seed: 23, invoices: 1_500);
        var directory = new VendorDirectory(snapshot.Vendors);

        var decisions = ReconciliationEngine.Reconcile(snapshot, Tolerances.Default, model).Invoices;

        var resolutions = decisions.Select(decision => decision.Vendor).DistinctBy(resolution => JsonSerializer.Serialize(resolution, Json)).ToList();
        Assert.True(resolutions.Count > 100, $"only {resolutions.Count} distinct printed identities");
        foreach (var shared in resolutions)
        {
            var evidence = shared.Evidence;
            var poVendor = evidence.ReferencedPoVendorCode is { } code ? directory.FindByCode(code) : null;
            var alone = new VendorResolver(directory, model).Resolve(evidence.PrintedName, evidence.PrintedTaxId, poVendor);
            Assert.Equal(JsonSerializer.Serialize(alone, Json), JsonSerializer.Serialize(shared, Json));
        }
    }

    [Fact]
    public void Resolving_in_bulk_answers_in_the_order_asked_and_as_resolving_one_by_one()
    {
        var (snapshot, model) = GeneratedTenant(seed: 29, invoices: 600);
        var directory = new VendorDirectory(snapshot.Vendors);
        var printed = snapshot.Invoices
            .Select(invoice => (invoice.PrintedVendorName, invoice.PrintedTaxId, (Vendor?)null))
            .Concat(snapshot.Vendors.Take(5).Select(vendor => (vendor.Name.ToUpperInvariant(), vendor.TaxId, (Vendor?)vendor)))
            .ToList();

        var inBulk = new VendorResolver(directory, model).ResolveAll(printed);
        var oneByOne = new VendorResolver(directory, model);

        Assert.Equal(
            printed.Select(entry => JsonSerializer.Serialize(oneByOne.Resolve(entry.Item1, entry.Item2, entry.Item3), Json)),
            inBulk.Select(resolution => JsonSerializer.Serialize(resolution, Json)));
    }

    [Fact]
    public void The_open_line_count_answers_as_scanning_every_line_would_also_when_line_numbers_or_PO_numbers_repeat()
    {
        var ledger = new QuantityLedger();
        var catalog = new ItemCatalog();
        var plain = new IndexedPurchaseOrder(
            new PurchaseOrder("PO-1", "V1", new DateOnly(2026, 1, 5), "USD", [Line(1, "A", 10, 1m), Line(2, "B", 5, 1m)]), ledger, catalog);
        var repeatsALineNumber = new IndexedPurchaseOrder(
            new PurchaseOrder("PO-2", "V1", new DateOnly(2026, 1, 5), "USD", [Line(1, "A", 10, 1m), Line(1, "B", 4, 1m)]), ledger, catalog);
        var sameNumberAgain = new IndexedPurchaseOrder(
            new PurchaseOrder("PO-1", "V2", new DateOnly(2026, 1, 6), "USD", [Line(2, "C", 3, 1m)]), ledger, catalog);
        var purchaseOrders = new[] { plain, repeatsALineNumber, sameNumberAgain };

        static bool ByScanning(IndexedPurchaseOrder po) => Enumerable.Range(0, po.Lines.Length).Any(i => po.Invoiced(i) < po.Lines[i].Quantity);

        var bookings = new (IndexedPurchaseOrder Po, int Line, decimal Quantity)[]
        {
            (plain, 0, 10), (plain, 1, 2), (sameNumberAgain, 0, 3), (plain, 1, -1), (plain, 1, 4),
            (repeatsALineNumber, 0, 4), (repeatsALineNumber, 1, 6), (plain, 0, -0.5m), (plain, 0, 0.5m),
        };
        foreach (var (po, line, quantity) in bookings)
        {
            po.Invoice(line, quantity);
            Assert.All(purchaseOrders, each => Assert.Equal(ByScanning(each), each.IsOpen));
        }

        Assert.All(purchaseOrders, each => Assert.False(each.IsOpen));
    }

    [Fact]
    public void The_price_check_without_division_for_equal_prices_answers_as_the_rule_with_division()
    {
        static bool ByTheRule(ToleranceRule rule, decimal po, decimal invoice)
        {
            var difference = Math.Abs(invoice - po);
            return (rule.UnitPriceAbsolute is not { } absolute || difference <= absolute) &&
                (po == 0 ? difference == 0 : difference * 100m / po <= rule.UnitPricePercent);
        }

        decimal[] prices = [0m, 0.01m, 1m, 1.00m, 9.99m, 10m, 10.2m, 10.21m, 123.4567m];
        foreach (var rule in new[] { new ToleranceRule(2m, null, 0m, 0.05m), new ToleranceRule(0m, 0m, 0m, 0m), new ToleranceRule(-1m, null, 0m, 0m),
                     new ToleranceRule(5m, 0.1m, 10m, 0.05m) })
        {
            foreach (var (po, invoice) in prices.SelectMany(po => prices.Select(invoice => (po, invoice))))
            {
                Assert.True(ByTheRule(rule, po, invoice) == rule.AllowsPrice(po, invoice), $"{rule}: PO {po}, invoice {invoice}");
            }
        }
    }

    [Fact]
    public void An_invoice_found_to_repeat_an_original_by_date_and_total_does_not_register_its_own_number()
    {
        var date = new DateOnly(2026, 4, 1);
        var tenant = new TenantBuilder().Vendor("V1", "Acme Supplies Inc")
            .PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", 30, 10m)).Receipt("PO-100", 1, 30)
            .Invoice("7001", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 10m)], date: date)
            .Invoice("7002", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 10m)], date: date)
            .Invoice("7002", "Acme Supplies Inc", "PO-100", [("SKU-1", 6, 10m)], date: date.AddDays(1));

        var decisions = ReconciliationEngine.Reconcile(tenant.Build(), Tolerances.Default).Invoices;

        Assert.Equal([InvoiceStatus.Matched, InvoiceStatus.Duplicate, InvoiceStatus.Matched], decisions.Select(d => d.Status));
        Assert.Equal("invoice-1", decisions[1].DuplicateOfInvoiceId);
    }
}
