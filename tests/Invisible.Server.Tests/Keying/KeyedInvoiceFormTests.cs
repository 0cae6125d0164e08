using Invisible.Ingestion;
using Invisible.Ingestion.Canonical;
using Invisible.Server.Keying;

namespace Invisible.Server.Tests.Keying;

/// <summary>The keying form's rules and the canonical CSV it hands to the import (pure: no server).</summary>
public sealed class KeyedInvoiceFormTests
{
    private static KeyedInvoiceFields Fields(string total = "524.00", params (string, string, string, string, string)[] lines) => new(
        "Acme, \"Supplies\" Ltd", "K-1", "2026-01-12", "2026-02-11", "gbp", "PO-7",
        lines.Length > 0 ? lines : [("P-A4", "Paper A4, 80 g", "10", "10.00", "100.00"), ("T-26A", "Toner 26A", "4", "80.00", "320.00")], "104.00", total);

    [Fact]
    public async Task A_keyed_invoice_reads_back_through_the_importer_as_the_same_invoice()
    {
        var (invoice, violations) = KeyedInvoiceForm.Check(Fields());
        Assert.Empty(violations);

        var read = await ImportReader.ReadAllAsync<InvoiceLineRow>(
            new MemoryStream(KeyedInvoiceForm.ToCsv(invoice!, "item-1")), "keyed.csv", ImportOptions.Default, InMemoryReferenceData.Empty, CancellationToken.None);

        Assert.True(read.Result.Accepted, string.Join('\n', read.Result.Errors));
        Assert.Equal(
            [
                ("K-1", "Acme, \"Supplies\" Ltd", new DateOnly(2026, 1, 12), "GBP", "PO-7", 1, "Paper A4, 80 g", 100.00m, 104.00m, 524.00m),
                ("K-1", "Acme, \"Supplies\" Ltd", new DateOnly(2026, 1, 12), "GBP", "PO-7", 2, "Toner 26A", 320.00m, 0m, 524.00m),
            ],
            read.Rows.Select(r => (r.InvoiceNumber, r.VendorName, r.InvoiceDate, r.Currency, r.PoNumber!, r.LineNo, r.Description, r.LineAmount, r.TaxAmount, r.InvoiceTotal)).ToArray());
    }

    [Fact]
    public void Every_wrong_field_is_named_with_its_line()
    {
        var (invoice, violations) = KeyedInvoiceForm.Check(Fields("1.00", ("", "", "0", "-1", "x"), ("S", "Ok", "2", "1.00005", "2.00")) with { DueDate = "2026-01-01", Currency = "EURO" });

        Assert.Null(invoice);
        Assert.Equal(
            "currency, due_date, lines[0].amount, lines[0].description, lines[0].quantity, lines[0].unit_price, lines[1].unit_price",
            string.Join(", ", violations.Select(v => v.Field).Distinct().Order(StringComparer.Ordinal)));
    }
}
