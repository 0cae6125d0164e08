using System.Text.Json.Nodes;
using Invisible.Server.QuickBooks;

namespace Invisible.Server.Tests.QuickBooks;

/// <summary>The pure rules of turning an invoice into a Bill or VendorCredit and of comparing it with what QuickBooks holds.</summary>
public sealed class BillMappingTests
{
    private static readonly BillTarget Target = new("56", "7", null);

    [Theory]
    [InlineData("NET30", "2026-02-11")]
    [InlineData("Net 45 days", "2026-02-26")]
    [InlineData("Due on receipt", "2026-01-12")]
    [InlineData("end of month", null)]
    public void The_due_date_follows_the_vendors_payment_terms(string terms, string? expected) =>
        Assert.Equal(expected is null ? null : DateOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), BillMapping.DueDate(new DateOnly(2026, 1, 12), terms));

    [Fact]
    public void The_requestid_is_the_same_for_the_same_attempt_and_new_for_the_next()
    {
        var (tenant, invoice) = (Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(
            (true, false),
            (BillMapping.RequestId(tenant, invoice, 1) == BillMapping.RequestId(tenant, invoice, 1), BillMapping.RequestId(tenant, invoice, 1) == BillMapping.RequestId(tenant, invoice, 2)));
    }

    [Fact]
    public void A_credit_note_becomes_a_VendorCredit_with_positive_amounts_and_a_line_for_the_tax()
    {
        var creditNote = new ExportInvoice(
            Guid.NewGuid(), "CN-1", new DateOnly(2026, 1, 12), "GBP", -120.00m, null, "NET30", [new ExportLine(1, "P-A4", "Paper A4", -10, 10.00m, -100.00m)]);

        var entity = BillMapping.ToEntity(creditNote, Target);

        Assert.Equal(
            ("VendorCredit", "100.00 + 20.00", false),
            (creditNote.EntityType, string.Join(" + ", entity["Line"]!.AsArray().Select(line => line!["Amount"]!.GetValue<decimal>().ToString("0.00", System.Globalization.CultureInfo.InvariantCulture))),
             entity.ContainsKey("DueDate")));
    }

    [Fact]
    public void What_QuickBooks_holds_agrees_when_only_its_own_fields_were_added()
    {
        var invoice = new ExportInvoice(Guid.NewGuid(), "A-1", new DateOnly(2026, 1, 12), "GBP", 100m, "PO-1", null, [new ExportLine(1, null, "Paper", 10, 10m, 100m)]);
        var sent = BillMapping.ToEntity(invoice, Target);
        var held = (JsonObject)sent.DeepClone();
        held["Id"] = "145";
        held["SyncToken"] = "0";
        held["TotalAmt"] = 100.00m;

        var changed = (JsonObject)held.DeepClone();
        changed["DocNumber"] = "A-1-EDITED";

        Assert.Equal(
            (0, "number: sent A-1, QuickBooks has A-1-EDITED"),
            (BillMapping.Differences(sent, held).Count, string.Join("; ", BillMapping.Differences(sent, changed))));
    }

    [Fact]
    public void With_an_item_mapped_each_line_is_item_based_with_its_quantity_price_and_the_tax_code()
    {
        var invoice = new ExportInvoice(Guid.NewGuid(), "A-1", new DateOnly(2026, 1, 12), "GBP", 120m, null, null, [new ExportLine(1, null, "Paper", 10, 10m, 100m)]);

        var lines = BillMapping.ToEntity(invoice, new BillTarget("56", null, null, ItemId: "9", TaxCodeId: "3"))["Line"]!.AsArray();

        Assert.Equal(
            ("ItemBasedExpenseLineDetail", "9", 10m, 10m, "3", "9", "3", false),
            (lines[0]!["DetailType"]!.GetValue<string>(), lines[0]!["ItemBasedExpenseLineDetail"]!["ItemRef"]!["value"]!.GetValue<string>(),
             lines[0]!["ItemBasedExpenseLineDetail"]!["Qty"]!.GetValue<decimal>(), lines[0]!["ItemBasedExpenseLineDetail"]!["UnitPrice"]!.GetValue<decimal>(),
             lines[0]!["ItemBasedExpenseLineDetail"]!["TaxCodeRef"]!["value"]!.GetValue<string>(),
             lines[1]!["ItemBasedExpenseLineDetail"]!["ItemRef"]!["value"]!.GetValue<string>(),
             lines[1]!["ItemBasedExpenseLineDetail"]!["TaxCodeRef"]!["value"]!.GetValue<string>(),
             lines[1]!["ItemBasedExpenseLineDetail"]!.AsObject().ContainsKey("Qty")));
    }
}
