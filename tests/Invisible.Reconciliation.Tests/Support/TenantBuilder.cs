using Invisible.Reconciliation.Documents;

namespace Invisible.Reconciliation.Tests.Support;

/// <summary>Builds small tenants for scenario tests: one import per invoice, in the order they are added.</summary>
public sealed class TenantBuilder
{
    private readonly List<Vendor> vendors = [];
    private readonly List<PurchaseOrder> purchaseOrders = [];
    private readonly List<ReceiptLine> receipts = [];
    private readonly List<Invoice> invoices = [];
    private DateOnly nextDate = new(2026, 3, 1);

    public TenantBuilder Vendor(string code, string name, string? taxId = null)
    {
        vendors.Add(new Vendor(code, name, taxId, Currency: "USD"));
        return this;
    }

    public TenantBuilder PurchaseOrder(string poNumber, string vendorCode, params PurchaseOrderLine[] lines)
    {
        purchaseOrders.Add(new PurchaseOrder(poNumber, vendorCode, new DateOnly(2026, 1, 15), "USD", lines));
        return this;
    }

    public TenantBuilder Receipt(string poNumber, int lineNo, decimal quantity)
    {
        receipts.Add(new ReceiptLine($"GR-{receipts.Count + 1}", poNumber, lineNo, new DateOnly(2026, 2, 1), quantity));
        return this;
    }

    /// <summary>Adds an invoice whose lines are (sku, quantity, unit price); the header total is the exact sum unless adjusted.</summary>
    public TenantBuilder Invoice(
        string number,
        string vendorName,
        string? poReference,
        (string? Sku, decimal Quantity, decimal UnitPrice)[] lines,
        decimal totalAdjustment = 0,
        DateOnly? date = null,
        string? taxId = null,
        string? description = null)
    {
        var sequence = invoices.Count + 1;
        var invoiceLines = lines
            .Select((line, index) => new InvoiceLine(index + 1, line.Sku, description ?? $"Item {line.Sku}", line.Quantity, line.UnitPrice,
                Math.Round(line.Quantity * line.UnitPrice, 2), 0m, index + 2))
            .ToList();
        invoices.Add(new Invoice($"invoice-{sequence}", number, vendorName, taxId, date ?? NextDate(), "USD", poReference,
            invoiceLines.Sum(line => line.LineAmount) + totalAdjustment, new ImportOrigin(sequence, 2), invoiceLines));
        return this;
    }

    public TenantSnapshot Build() => new(vendors.ToList(), purchaseOrders.ToList(), receipts.ToList(), invoices.ToList());

    public static PurchaseOrderLine Line(int lineNo, string sku, decimal quantity, decimal unitPrice, bool receiptRequired = true) =>
        new(lineNo, sku, $"Item {sku}", quantity, unitPrice, receiptRequired);

    private DateOnly NextDate()
    {
        var date = nextDate;
        nextDate = nextDate.AddDays(1);
        return date;
    }
}
