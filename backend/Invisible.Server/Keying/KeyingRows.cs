using LinqToDB.Mapping;

namespace Invisible.Server.Keying;

/// <summary>The link of a keyed invoice's import to the PDF it was keyed from (migration 0023).</summary>
[Table("keyed_invoices")]
public sealed class KeyedInvoiceRow
{
    [Column("tenant_id"), PrimaryKey(0)] public Guid TenantId { get; set; }
    [Column("import_id"), PrimaryKey(1)] public Guid ImportId { get; set; }
    [Column("invoice_id")] public Guid InvoiceId { get; set; }
    [Column("message_id")] public Guid MessageId { get; set; }
    [Column("ordinal")] public int Ordinal { get; set; }
    [Column("pdf_blob")] public string PdfBlob { get; set; } = "";
    [Column("due_date")] public DateOnly? DueDate { get; set; }
    [Column("keyed_by")] public string KeyedBy { get; set; } = "";
    [Column("keyed_at")] public DateTimeOffset KeyedAt { get; set; }
}

/// <summary>The vendor columns the prefill and the PO picker read.</summary>
[Table("vendors")]
internal sealed class KeyingVendorRow
{
    [Column("id")] public Guid Id { get; set; }
    [Column("vendor_code")] public string VendorCode { get; set; } = "";
    [Column("name")] public string Name { get; set; } = "";
    [Column("currency")] public string? Currency { get; set; }
    [Column("merged_into")] public Guid? MergedInto { get; set; }
}

[Table("tenants")]
internal sealed class KeyingTenantRow
{
    [Column("default_currency")] public string DefaultCurrency { get; set; } = "";
}

[Table("purchase_orders")]
internal sealed class KeyingPurchaseOrderRow
{
    [Column("id")] public Guid Id { get; set; }
    [Column("po_number")] public string PoNumber { get; set; } = "";
    [Column("vendor_id")] public Guid VendorId { get; set; }
    [Column("currency")] public string Currency { get; set; } = "";
    [Column("status")] public string Status { get; set; } = "";
    [Column("superseded_at")] public DateTimeOffset? SupersededAt { get; set; }
}

[Table("purchase_order_lines")]
internal sealed class KeyingPurchaseOrderLineRow
{
    [Column("purchase_order_id")] public Guid PurchaseOrderId { get; set; }
    [Column("line_no")] public int LineNo { get; set; }
    [Column("sku")] public string? Sku { get; set; }
    [Column("description")] public string Description { get; set; } = "";
    [Column("quantity")] public decimal Quantity { get; set; }
    [Column("unit_price")] public decimal UnitPrice { get; set; }
}

[Table("invoices")]
internal sealed class KeyingInvoiceRow
{
    [Column("id")] public Guid Id { get; set; }
    [Column("import_id")] public Guid ImportId { get; set; }
    [Column("import_position")] public int ImportPosition { get; set; }
}
