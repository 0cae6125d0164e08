using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Tests.Support;
using static Invisible.Reconciliation.Tests.Support.TenantBuilder;

namespace Invisible.Reconciliation.Tests;

/// <summary>The named scenarios of the matching issue, each with its own tolerances.</summary>
public class ScenarioTests
{
    private static Tolerances WithRule(decimal pricePercent = 2m, decimal quantityPercent = 0m, decimal totalAbsolute = 0.05m) =>
        new(7, new ToleranceRule(pricePercent, null, quantityPercent, totalAbsolute), new Dictionary<string, ToleranceRule>());

    private static TenantBuilder AcmeWithPo(decimal ordered, decimal unitPrice, bool receiptRequired = true) =>
        new TenantBuilder().Vendor("V1", "Acme Supplies Inc").PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", ordered, unitPrice, receiptRequired));

    private static InvoiceDecision[] Reconcile(TenantBuilder tenant, Tolerances? tolerances = null) =>
        ReconciliationEngine.Reconcile(tenant.Build(), tolerances ?? Tolerances.Default).Invoices.ToArray();

    [Fact]
    public void Hundred_at_ten_ordered_received_and_invoiced_is_matched()
    {
        var tenant = AcmeWithPo(100, 10m).Receipt("PO-100", 1, 100).Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 100, 10m)]);

        var decision = Assert.Single(Reconcile(tenant));

        Assert.Equal(InvoiceStatus.Matched, decision.Status);
        Assert.Equal(LineStatus.Matched, decision.Lines[0].Status);
        Assert.Equal(("PO-100", 1), (decision.Lines[0].PoNumber, decision.Lines[0].PoLineNo));
    }

    [Theory]
    [InlineData("1.04", LineStatus.WithinTolerance, InvoiceStatus.Matched)]
    [InlineData("1.10", LineStatus.PriceVariance, InvoiceStatus.Exception)]
    [InlineData("0.96", LineStatus.WithinTolerance, InvoiceStatus.Matched)]
    [InlineData("0.90", LineStatus.PriceVariance, InvoiceStatus.Exception)]
    public void Price_against_a_five_percent_tolerance_on_a_PO_price_of_one(string invoicePrice, LineStatus expectedLine, InvoiceStatus expectedInvoice)
    {
        var tenant = AcmeWithPo(10, 1.00m).Receipt("PO-100", 1, 10)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, decimal.Parse(invoicePrice, System.Globalization.CultureInfo.InvariantCulture))]);

        var decision = Assert.Single(Reconcile(tenant, WithRule(pricePercent: 5m)));

        Assert.Equal(expectedLine, decision.Lines[0].Status);
        Assert.Equal(expectedInvoice, decision.Status);
        Assert.Equal(7, decision.ToleranceVersion);
        Assert.Equal(5m, decision.Lines[0].Evidence!.ToleranceUsed.UnitPricePercent);
    }

    [Theory]
    [InlineData(80, LineStatus.QuantityVariance, InvoiceStatus.Exception)]
    [InlineData(50, LineStatus.Matched, InvoiceStatus.Matched)]
    public void Ordered_hundred_received_fifty_is_held_against_the_received_quantity(int invoiced, LineStatus expectedLine, InvoiceStatus expectedInvoice)
    {
        var tenant = AcmeWithPo(100, 10m).Receipt("PO-100", 1, 50).Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", invoiced, 10m)]);

        var decision = Assert.Single(Reconcile(tenant));

        Assert.Equal(expectedLine, decision.Lines[0].Status);
        Assert.Equal(expectedInvoice, decision.Status);
        Assert.Equal(50m, decision.Lines[0].Evidence!.Received);
    }

    [Fact]
    public void Nothing_received_awaits_receipt_and_a_later_receipt_matches_it_without_user_action()
    {
        var tenant = AcmeWithPo(10, 10m).Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10m)]);
        var before = Assert.Single(Reconcile(tenant));

        var after = Assert.Single(Reconcile(tenant.Receipt("PO-100", 1, 10)));

        Assert.Equal((InvoiceStatus.AwaitingReceipt, LineStatus.NotReceived), (before.Status, before.Lines[0].Status));
        Assert.Equal((InvoiceStatus.Matched, LineStatus.Matched), (after.Status, after.Lines[0].Status));
    }

    [Fact]
    public void Receipts_for_PO_lines_no_PO_has_are_kept_aside_and_do_not_stop_the_reconcile()
    {
        // More unknown lines than the ledger was sized for: booking them grows it, as an import of receipts ahead of their POs does.
        var tenant = AcmeWithPo(10, 10m).Receipt("PO-100", 1, 10);
        for (var line = 1; line <= 9; line++)
        {
            tenant = tenant.Receipt("PO-NOT-YET-IMPORTED", line, 5);
        }

        var decision = Assert.Single(Reconcile(tenant.Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10m)])));

        Assert.Equal((InvoiceStatus.Matched, 10m), (decision.Status, decision.Lines[0].Evidence!.Received));
    }

    [Fact]
    public void Receipts_count_whatever_their_date_so_two_partial_invoices_end_up_matched()
    {
        // PO of 500; receipt 2, invoice 2, invoice 4, then receipt 5: at the end 7 are received and 6 invoiced.
        var tenant = AcmeWithPo(500, 3m).Receipt("PO-100", 1, 2)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 2, 3m)])
            .Invoice("A-2", "Acme Supplies Inc", "PO-100", [("SKU-1", 4, 3m)]);
        var beforeSecondReceipt = Reconcile(tenant);

        var atTheEnd = Reconcile(tenant.Receipt("PO-100", 1, 5));

        Assert.Equal([InvoiceStatus.Matched, InvoiceStatus.Exception], beforeSecondReceipt.Select(d => d.Status));
        Assert.All(atTheEnd, decision => Assert.Equal(InvoiceStatus.Matched, decision.Status));
        Assert.Equal(6m, atTheEnd[1].Lines[0].Evidence!.CumulativeInvoiced);
    }

    [Theory]
    [InlineData(50, LineStatus.Matched)]
    [InlineData(51, LineStatus.QuantityVariance)]
    public void Quantity_tolerance_of_ten_percent_on_a_hundred_allows_sixty_plus_fifty_but_not_sixty_plus_fifty_one(int second, LineStatus expected)
    {
        var tenant = AcmeWithPo(100, 10m).Receipt("PO-100", 1, 100)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 60, 10m)])
            .Invoice("A-2", "Acme Supplies Inc", "PO-100", [("SKU-1", second, 10m)]);

        var decisions = Reconcile(tenant, WithRule(quantityPercent: 10m));

        Assert.Equal(LineStatus.Matched, decisions[0].Lines[0].Status);
        Assert.Equal(expected, decisions[1].Lines[0].Status);
    }

    [Fact]
    public void Services_line_without_receipt_is_held_against_the_ordered_quantity()
    {
        var tenant = AcmeWithPo(10, 50m, receiptRequired: false)
            .Invoice("S-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 6, 50m)])
            .Invoice("S-2", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 50m)]);

        var decisions = Reconcile(tenant);

        Assert.Equal([LineStatus.Matched, LineStatus.QuantityVariance], decisions.Select(d => d.Lines[0].Status));
        Assert.Equal(10m, decisions[1].Lines[0].Evidence!.QuantityBase);
    }

    [Fact]
    public void Same_invoice_number_with_a_prefix_same_vendor_date_and_total_is_a_duplicate_that_consumes_nothing()
    {
        var date = new DateOnly(2026, 4, 1);
        var tenant = AcmeWithPo(10, 10m).Receipt("PO-100", 1, 10)
            .Invoice("INV-0892", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10m)], date: date)
            .Invoice("0892", "ACME SUPPLIES INC.", "PO-100", [("SKU-1", 10, 10m)], date: date)
            .Invoice("893", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10m)], date: date.AddDays(1));

        var decisions = Reconcile(tenant);

        Assert.Equal([InvoiceStatus.Matched, InvoiceStatus.Duplicate, InvoiceStatus.Exception], decisions.Select(d => d.Status));
        Assert.Equal("invoice-1", decisions[1].DuplicateOfInvoiceId);
        Assert.All(decisions[1].Lines, line => Assert.Equal((LineStatus.Unmatched, (string?)null), (line.Status, line.PoNumber)));
        Assert.Equal(LineStatus.QuantityVariance, decisions[2].Lines[0].Status);
        Assert.Equal(20m, decisions[2].Lines[0].Evidence!.CumulativeInvoiced);
    }

    [Fact]
    public void Different_number_but_same_vendor_date_and_total_is_a_duplicate()
    {
        var date = new DateOnly(2026, 4, 1);
        var tenant = AcmeWithPo(10, 10m).Receipt("PO-100", 1, 10)
            .Invoice("7001", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 10m)], date: date)
            .Invoice("7002", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 10m)], date: date);

        Assert.Equal([InvoiceStatus.Matched, InvoiceStatus.Duplicate], Reconcile(tenant).Select(d => d.Status));
    }

    [Fact]
    public void The_earlier_invoice_by_date_is_the_original_even_when_imported_later()
    {
        var tenant = AcmeWithPo(10, 10m).Receipt("PO-100", 1, 10)
            .Invoice("INV-55", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 10m)], date: new DateOnly(2026, 5, 2))
            .Invoice("55", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 10m)], date: new DateOnly(2026, 5, 1));

        var decisions = Reconcile(tenant);

        Assert.Equal([InvoiceStatus.Duplicate, InvoiceStatus.Matched], decisions.Select(d => d.Status));
    }

    [Theory]
    [InlineData("0.04", InvoiceStatus.Matched)]
    [InlineData("-0.04", InvoiceStatus.Matched)]
    [InlineData("0.60", InvoiceStatus.Exception)]
    public void Header_total_off_by_a_few_cents_is_rounding_but_off_by_sixty_cents_is_an_exception(string offBy, InvoiceStatus expected)
    {
        var tenant = AcmeWithPo(10, 10m).Receipt("PO-100", 1, 10)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10m)], totalAdjustment: decimal.Parse(offBy, System.Globalization.CultureInfo.InvariantCulture));

        var decision = Assert.Single(Reconcile(tenant));

        Assert.Equal(expected, decision.Status);
        Assert.All(decision.Lines, line => Assert.Equal(LineStatus.Matched, line.Status));
    }

    [Fact]
    public void Vendor_override_tolerance_applies_to_that_vendor_only()
    {
        var tolerances = Tolerances.Default with { VendorOverrides = new Dictionary<string, ToleranceRule> { ["V1"] = new(10m, null, 0m, 0.05m) } };
        var tenant = AcmeWithPo(10, 1.00m).Receipt("PO-100", 1, 10)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 5, 1.08m)]);

        var decision = Assert.Single(Reconcile(tenant, tolerances));

        Assert.Equal(LineStatus.WithinTolerance, decision.Lines[0].Status);
        Assert.Contains("+8.00%", decision.Lines[0].Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_PO_reference_is_inferred_when_exactly_one_open_PO_has_the_items()
    {
        var tenant = new TenantBuilder().Vendor("V1", "Acme Supplies Inc")
            .PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", 10, 10m))
            .PurchaseOrder("PO-200", "V1", Line(1, "SKU-2", 10, 10m))
            .Receipt("PO-200", 1, 10)
            .Invoice("A-1", "Acme Supplies Inc", null, [("SKU-2", 10, 10m)]);

        var decision = Assert.Single(Reconcile(tenant));

        Assert.Equal(InvoiceStatus.Matched, decision.Status);
        Assert.Equal(("PO-200", PoIdentifiedBy.Inferred), (decision.Po.PoNumber, decision.Po.IdentifiedBy));
    }

    [Fact]
    public void Two_equally_fitting_open_POs_leave_the_invoice_without_PO_and_rank_both_for_review()
    {
        var tenant = new TenantBuilder().Vendor("V1", "Acme Supplies Inc")
            .PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", 10, 10m))
            .PurchaseOrder("PO-200", "V1", Line(1, "SKU-1", 10, 10m))
            .Invoice("A-1", "Acme Supplies Inc", null, [("SKU-1", 10, 10m)]);

        var decision = Assert.Single(Reconcile(tenant));

        Assert.Equal(InvoiceStatus.NoPo, decision.Status);
        Assert.Equal(["PO-100", "PO-200"], decision.Po.Candidates.Select(candidate => candidate.PoNumber));
    }

    [Fact]
    public void A_fully_invoiced_PO_is_no_longer_open_so_the_repeat_order_is_inferred()
    {
        var tenant = new TenantBuilder().Vendor("V1", "Acme Supplies Inc")
            .PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", 10, 10m))
            .PurchaseOrder("PO-200", "V1", Line(1, "SKU-1", 10, 10m))
            .Receipt("PO-100", 1, 10).Receipt("PO-200", 1, 10)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10m)])
            .Invoice("A-2", "Acme Supplies Inc", null, [("SKU-1", 10, 10m)]);

        var decisions = Reconcile(tenant);

        Assert.Equal(("PO-200", InvoiceStatus.Matched), (decisions[1].Po.PoNumber, decisions[1].Status));
    }

    [Theory]
    [InlineData("PO10045")]
    [InlineData("10045")]
    [InlineData("PO #10045")]
    [InlineData("po-10045")]
    [InlineData("P.O. 010045")]
    public void Printed_PO_references_are_normalised(string printed)
    {
        var tenant = new TenantBuilder().Vendor("V1", "Acme Supplies Inc")
            .PurchaseOrder("PO-10045", "V1", Line(1, "SKU-1", 10, 10m)).Receipt("PO-10045", 1, 10)
            .Invoice("A-1", "Acme Supplies Inc", printed, [("SKU-1", 10, 10m)]);

        var decision = Assert.Single(Reconcile(tenant));

        Assert.Equal(("PO-10045", PoIdentifiedBy.PrintedReference), (decision.Po.PoNumber, decision.Po.IdentifiedBy));
    }

    [Fact]
    public void A_line_without_SKU_is_paired_by_description_but_never_across_different_sizes()
    {
        var tenant = new TenantBuilder().Vendor("V1", "Acme Supplies Inc")
            .PurchaseOrder("PO-1", "V1",
                new(1, "C-25", "Copper cable 2.5 mm2, 100 m roll", 10, 100m),
                new(2, "C-40", "Copper cable 4 mm2, 100 m roll", 10, 150m))
            .Receipt("PO-1", 1, 10).Receipt("PO-1", 2, 10)
            .Invoice("A-1", "Acme Supplies Inc", "PO-1", [(null, 10, 150m)], description: "COPPER CABLE 4MM2 100M ROLL");

        var line = Assert.Single(Reconcile(tenant)).Lines[0];

        Assert.Equal((LineStatus.Matched, 2, LinePairedBy.Description), (line.Status, line.PoLineNo, line.PairedBy));
    }

    [Fact]
    public void Every_decision_explains_itself_to_a_clerk()
    {
        var tenant = AcmeWithPo(10, 1.00m).Receipt("PO-100", 1, 10)
            .Invoice("A-1", "ACME Supplies, Inc.", "PO 100", [("SKU-1", 10, 1.10m)]);

        var decision = Assert.Single(Reconcile(tenant));

        Assert.Contains("PO-100", decision.Explanation, StringComparison.Ordinal);
        Assert.Contains("V1", decision.Vendor.Explanation, StringComparison.Ordinal);
        Assert.Contains("unit price 1.1 vs PO 1 (+10.00%)", decision.Lines[0].Explanation, StringComparison.Ordinal);
        Assert.NotEmpty(decision.Vendor.Evidence.TopCandidates[0].TopFeatures);
    }
}
