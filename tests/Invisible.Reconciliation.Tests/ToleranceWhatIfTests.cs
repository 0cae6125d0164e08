using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Tests.Support;
using static Invisible.Reconciliation.Tests.Support.TenantBuilder;

namespace Invisible.Reconciliation.Tests;

public class ToleranceWhatIfTests
{
    [Fact]
    public void A_wider_price_tolerance_reports_which_exceptions_would_clear_and_the_amount_that_would_pass()
    {
        var snapshot = new TenantBuilder().Vendor("V1", "Acme Supplies Inc")
            .PurchaseOrder("PO-100", "V1", Line(1, "SKU-1", 100, 10m)).Receipt("PO-100", 1, 100)
            .Invoice("A-1", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10.40m)])
            .Invoice("A-2", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 11.00m)])
            .Invoice("A-3", "Acme Supplies Inc", "PO-100", [("SKU-1", 10, 10.00m)])
            .Build();
        var proposed = Tolerances.Default with { Version = 2, TenantDefault = Tolerances.Default.TenantDefault with { UnitPricePercent = 5m } };

        var outcome = ToleranceWhatIf.Evaluate(snapshot, Tolerances.Default, proposed);

        Assert.Equal(2, outcome.OpenExceptions);
        Assert.Equal(["invoice-1"], outcome.ClearedInvoiceIds);
        Assert.Equal([new Money(104.00m, "USD")], outcome.AmountPassing);
        Assert.Equal(0, outcome.NewExceptions);
    }
}
