using Dapper;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Server.Matching.Models;

namespace Invisible.Server.Matching;

/// <summary>A tenant's documents and tolerances as the engine needs them, with the row ids decisions must reference.</summary>
/// <param name="DefaultToleranceId">The tolerances row of the tenant default at its current version.</param>
/// <param name="OverrideToleranceIds">The tolerances row of each vendor override at its current version, by vendor code.</param>
public sealed record LoadedTenant(
    TenantSnapshot Snapshot,
    Tolerances Tolerances,
    Guid DefaultToleranceId,
    IReadOnlyDictionary<string, Guid> OverrideToleranceIds)
{
    /// <summary>The tolerances row a decision for <paramref name="vendorCode"/> applied.</summary>
    public Guid ToleranceIdFor(string? vendorCode) =>
        vendorCode is not null && OverrideToleranceIds.TryGetValue(vendorCode, out var id) ? id : DefaultToleranceId;
}

/// <summary>
/// Loads everything of one tenant the matching engine reads, one set-based query per table (no per-invoice round trips):
/// vendors with their confirmed names, purchase orders at their current version, receipts, invoices in import order with
/// their file lines, the current tolerances, and the tenant's active similarity model (retrained and stored as a new
/// version first when its training set, the vendor master and aliases, changed since it was trained).
/// </summary>
public static class TenantSnapshotStore
{
    public static async Task<LoadedTenant> LoadAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var vendors = await VendorsAsync(unitOfWork, cancellationToken);
        var purchaseOrders = await PurchaseOrdersAsync(unitOfWork, cancellationToken);
        var receipts = (await QueryAsync<ReceiptRow>(unitOfWork,
            """
            select r.receipt_number as ReceiptNumber, l.po_number as PoNumber, l.po_line_no as PoLineNo, l.received_date as ReceivedDate,
                   l.quantity_received as QuantityReceived
            from receipt_lines l join receipts r on r.id = l.receipt_id
            """, cancellationToken))
            .Select(row => new ReceiptLine(row.ReceiptNumber, row.PoNumber, row.PoLineNo, row.ReceivedDate, row.QuantityReceived))
            .ToList();
        var invoices = await InvoicesAsync(unitOfWork, cancellationToken);
        var (tolerances, defaultId, overrideIds) = await TolerancesAsync(unitOfWork, cancellationToken);
        var model = await SimilarityModelStore.EnsureActiveAsync(unitOfWork, cancellationToken);
        return new LoadedTenant(
            new TenantSnapshot(vendors, purchaseOrders, receipts, invoices) { SimilarityModel = model?.Model }, tolerances, defaultId, overrideIds);
    }

    private static async Task<List<Vendor>> VendorsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var aliases = (await QueryAsync<AliasRow>(unitOfWork,
                """
                select v.vendor_code as VendorCode, a.value as Name
                from vendor_aliases a join vendors v on v.id = a.vendor_id
                where a.kind = 'name' and a.source <> 'master'
                order by a.created_at, a.value
                """, cancellationToken))
            .ToLookup(alias => alias.VendorCode, alias => alias.Name, StringComparer.Ordinal);
        return (await QueryAsync<VendorRow>(unitOfWork,
                """
                select vendor_code as Code, name as Name, tax_id as TaxId, email as Email, country as Country, currency as Currency,
                       payment_terms as PaymentTerms
                from vendors order by vendor_code
                """, cancellationToken))
            .Select(row => new Vendor(row.Code, row.Name, row.TaxId, row.Email, row.Country, row.Currency, row.PaymentTerms)
            {
                Aliases = aliases[row.Code].ToList(),
            })
            .ToList();
    }

    private static async Task<List<PurchaseOrder>> PurchaseOrdersAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var lines = (await QueryAsync<PurchaseOrderLineRow>(unitOfWork,
                """
                select l.purchase_order_id as PurchaseOrderId, l.line_no as LineNo, l.sku as Sku, l.description as Description,
                       l.quantity as Quantity, l.unit_price as UnitPrice, l.receipt_required as ReceiptRequired
                from purchase_order_lines l join purchase_orders p on p.id = l.purchase_order_id
                where p.superseded_at is null
                order by l.purchase_order_id, l.line_no
                """, cancellationToken))
            .ToLookup(line => line.PurchaseOrderId);
        return (await QueryAsync<PurchaseOrderRow>(unitOfWork,
                """
                select p.id as Id, p.po_number as PoNumber, v.vendor_code as VendorCode, p.order_date as OrderDate, p.currency as Currency,
                       p.version as Version
                from purchase_orders p join vendors v on v.id = p.vendor_id
                where p.superseded_at is null
                order by p.po_number
                """, cancellationToken))
            .Select(row => new PurchaseOrder(
                row.PoNumber, row.VendorCode, row.OrderDate, row.Currency,
                lines[row.Id].Select(line => new PurchaseOrderLine(line.LineNo, line.Sku, line.Description, line.Quantity, line.UnitPrice, line.ReceiptRequired)).ToList(),
                row.Version))
            .ToList();
    }

    private static async Task<List<Invoice>> InvoicesAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var lines = (await QueryAsync<InvoiceLineRow>(unitOfWork,
                """
                select invoice_id as InvoiceId, line_no as LineNo, sku as Sku, description as Description, quantity as Quantity,
                       unit_price as UnitPrice, line_amount as LineAmount, tax_amount as TaxAmount, source_line as SourceLine
                from invoice_lines order by invoice_id, source_line
                """, cancellationToken))
            .ToLookup(line => line.InvoiceId);
        return (await QueryAsync<InvoiceRow>(unitOfWork,
                """
                select i.id as Id, i.invoice_number as InvoiceNumber, i.printed_vendor_name as PrintedVendorName,
                       i.printed_vendor_tax_id as PrintedTaxId, i.invoice_date as InvoiceDate, i.currency as Currency,
                       i.printed_po_number as PrintedPoReference, i.invoice_total as InvoiceTotal, m.import_no as ImportNo
                from invoices i join imports m on m.id = i.import_id
                order by m.import_no, i.import_position
                """, cancellationToken))
            .Select(row =>
            {
                var invoiceLines = lines[row.Id]
                    .Select(line => new InvoiceLine(line.LineNo, line.Sku, line.Description, line.Quantity, line.UnitPrice, line.LineAmount, line.TaxAmount, line.SourceLine))
                    .ToList();
                return new Invoice(
                    row.Id.ToString(), row.InvoiceNumber, row.PrintedVendorName, row.PrintedTaxId, row.InvoiceDate, row.Currency,
                    row.PrintedPoReference, row.InvoiceTotal, new ImportOrigin(row.ImportNo, invoiceLines.Min(line => line.SourceLine)), invoiceLines);
            })
            .ToList();
    }

    private static async Task<(Tolerances Tolerances, Guid DefaultId, Dictionary<string, Guid> OverrideIds)> TolerancesAsync(
        TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        // The newest version of the tenant default and of each vendor override; older versions are history for old decisions.
        var rows = (await QueryAsync<ToleranceRow>(unitOfWork,
            """
            select distinct on (t.vendor_id)
                   t.id as Id, v.vendor_code as VendorCode, t.version as Version, t.price_tolerance_percent as PricePercent,
                   t.quantity_tolerance_percent as QuantityPercent, t.total_tolerance as TotalAbsolute
            from tolerances t left join vendors v on v.id = t.vendor_id
            order by t.vendor_id, t.version desc
            """, cancellationToken)).ToList();
        var tenantDefault = rows.SingleOrDefault(row => row.VendorCode is null)
            ?? throw new InvalidOperationException($"Tenant {unitOfWork.TenantId} has no default tolerances; every tenant is created with version 1.");
        var overrides = rows.Where(row => row.VendorCode is not null).ToList();
        var tolerances = new Tolerances(
            tenantDefault.Version,
            tenantDefault.ToRule(),
            overrides.ToDictionary(row => row.VendorCode!, row => row.ToRule(), StringComparer.Ordinal));
        return (tolerances, tenantDefault.Id, overrides.ToDictionary(row => row.VendorCode!, row => row.Id, StringComparer.Ordinal));
    }

    private static Task<IEnumerable<T>> QueryAsync<T>(TenantUnitOfWork unitOfWork, string sql, CancellationToken cancellationToken) =>
        unitOfWork.Connection.QueryAsync<T>(new CommandDefinition(
            sql, transaction: unitOfWork.Transaction, commandTimeout: MatchDecisionStore.RunCommandTimeoutSeconds, cancellationToken: cancellationToken));

    private sealed record AliasRow(string VendorCode, string Name);

    private sealed class VendorRow
    {
        public string Code { get; init; } = "";
        public string Name { get; init; } = "";
        public string? TaxId { get; init; }
        public string? Email { get; init; }
        public string? Country { get; init; }
        public string? Currency { get; init; }
        public string? PaymentTerms { get; init; }
    }

    private sealed class PurchaseOrderRow
    {
        public Guid Id { get; init; }
        public string PoNumber { get; init; } = "";
        public string VendorCode { get; init; } = "";
        public DateOnly OrderDate { get; init; }
        public string Currency { get; init; } = "";
        public int Version { get; init; }
    }

    private sealed class PurchaseOrderLineRow
    {
        public Guid PurchaseOrderId { get; init; }
        public int LineNo { get; init; }
        public string? Sku { get; init; }
        public string Description { get; init; } = "";
        public decimal Quantity { get; init; }
        public decimal UnitPrice { get; init; }
        public bool ReceiptRequired { get; init; }
    }

    private sealed class ReceiptRow
    {
        public string ReceiptNumber { get; init; } = "";
        public string PoNumber { get; init; } = "";
        public int PoLineNo { get; init; }
        public DateOnly ReceivedDate { get; init; }
        public decimal QuantityReceived { get; init; }
    }

    private sealed class InvoiceRow
    {
        public Guid Id { get; init; }
        public string InvoiceNumber { get; init; } = "";
        public string PrintedVendorName { get; init; } = "";
        public string? PrintedTaxId { get; init; }
        public DateOnly InvoiceDate { get; init; }
        public string Currency { get; init; } = "";
        public string? PrintedPoReference { get; init; }
        public decimal InvoiceTotal { get; init; }
        public long ImportNo { get; init; }
    }

    private sealed class InvoiceLineRow
    {
        public Guid InvoiceId { get; init; }
        public int LineNo { get; init; }
        public string? Sku { get; init; }
        public string Description { get; init; } = "";
        public decimal Quantity { get; init; }
        public decimal UnitPrice { get; init; }
        public decimal LineAmount { get; init; }
        public decimal TaxAmount { get; init; }
        public int SourceLine { get; init; }
    }

    private sealed class ToleranceRow
    {
        public Guid Id { get; init; }
        public string? VendorCode { get; init; }
        public int Version { get; init; }
        public decimal PricePercent { get; init; }
        public decimal QuantityPercent { get; init; }
        public decimal TotalAbsolute { get; init; }

        public ToleranceRule ToRule() => new(PricePercent, null, QuantityPercent, TotalAbsolute);
    }
}
