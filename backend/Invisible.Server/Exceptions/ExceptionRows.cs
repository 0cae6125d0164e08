using LinqToDB;
using LinqToDB.Mapping;

namespace Invisible.Server.Exceptions;

/// <summary>The columns of <c>exceptions</c> the queue list narrows and orders by (row-level security keeps them to the tenant).</summary>
[Table("exceptions")]
internal sealed class QueueExceptionRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("invoice_id")] public Guid InvoiceId { get; init; }

    [Column("status")] public string Status { get; init; } = "";

    /// <summary>Comma-separated reason names.</summary>
    [Column("reason")] public string Reason { get; init; } = "";

    [Column("assignee_id")] public Guid? AssigneeId { get; init; }

    [Column("opened_at")] public DateTime OpenedAt { get; init; }

}

/// <summary>The columns of <c>invoices</c> the queue list narrows and orders by.</summary>
[Table("invoices")]
internal sealed class QueueInvoiceRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("vendor_id")] public Guid? VendorId { get; init; }

    [Column("invoice_total")] public decimal InvoiceTotal { get; init; }
}

[Table("vendors")]
internal sealed class QueueVendorRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("vendor_code")] public string VendorCode { get; init; } = "";
}

internal static class QueueSql
{
    /// <summary>Whether <paramref name="reason"/> is one of the comma-separated <paramref name="reasons"/>.</summary>
    [Sql.Expression("{0} = any(string_to_array({1}, ','))", ServerSideOnly = true, IsPredicate = true)]
    public static bool IsOneOf(string reason, string reasons) => throw new InvalidOperationException("Runs in SQL only.");
}
