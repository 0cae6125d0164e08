using LinqToDB.Mapping;

namespace Invisible.Server.Matching;

/// <summary>The columns of <c>invoices</c> that LINQ queries of this area read (row-level security keeps them to the tenant).</summary>
[Table("invoices")]
internal sealed class InvoiceTableRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("tenant_id")] public Guid TenantId { get; init; }

    [Column("status")] public string Status { get; init; } = "";

    [Column("currency")] public string Currency { get; init; } = "";

    [Column("invoice_total")] public decimal InvoiceTotal { get; init; }
}

/// <summary>The columns of <c>exceptions</c> that LINQ queries of this area read.</summary>
[Table("exceptions")]
internal sealed class ExceptionTableRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("tenant_id")] public Guid TenantId { get; init; }

    [Column("invoice_id")] public Guid InvoiceId { get; init; }

    [Column("status")] public string Status { get; init; } = "";

    [Column("opened_at")] public DateTimeOffset OpenedAt { get; init; }
}

/// <summary>The columns of <c>imports</c> the dashboard counts.</summary>
[Table("imports")]
internal sealed class ImportTableRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("status")] public string Status { get; init; } = "";

    [Column("received_at")] public DateTimeOffset ReceivedAt { get; init; }
}
