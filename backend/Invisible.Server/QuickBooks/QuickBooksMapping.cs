using System.Text.Json.Nodes;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.QuickBooks;

/// <summary>One entity of the company a user can choose in the mapping screens (an account, item, vendor or tax code).</summary>
public sealed record QuickBooksChoice(string Id, string Name, string? Currency);

/// <summary>The lists the mapping screens choose from, as the connected company holds them now.</summary>
public sealed record QuickBooksCompanyLists(
    IReadOnlyList<QuickBooksChoice> ExpenseAccounts, IReadOnlyList<QuickBooksChoice> Items, IReadOnlyList<QuickBooksChoice> Vendors,
    IReadOnlyList<QuickBooksChoice> TaxCodes);

/// <summary>One of our vendors and the QuickBooks vendor, account or item its invoices go to (null: not mapped yet).</summary>
public sealed record QuickBooksVendorMapping(
    Guid VendorId, string VendorCode, string VendorName, string? Currency, QuickBooksVendorMappingRow? Mapping);

/// <summary>
/// The mapping screens' side of the exports: what the company offers (read from QuickBooks each time, so a new account or
/// vendor is there at once) and the per-vendor choices a user makes, checked against the company and audited.
/// </summary>
public sealed class QuickBooksMapping(TenantDatabase database, QuickBooksConnections connections, QuickBooksApi api, TimeProvider time)
{
    // Account types a Bill line may be booked to (QuickBooks' expense classification).
    private static readonly HashSet<string> ExpenseAccountTypes = new(["Expense", "Other Expense", "Cost of Goods Sold"], StringComparer.OrdinalIgnoreCase);

    public async Task<QuickBooksCompanyLists> CompanyListsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        await connections.CallAsync(tenantId, async session =>
        {
            var accounts = await ActiveAsync(session, QuickBooksEntities.Account, cancellationToken);
            var items = await ActiveAsync(session, QuickBooksEntities.Item, cancellationToken);
            var vendors = await ActiveAsync(session, QuickBooksEntities.Vendor, cancellationToken);
            var taxCodes = await ActiveAsync(session, QuickBooksEntities.TaxCode, cancellationToken);
            return new QuickBooksCompanyLists(
                Choices(accounts.Where(a => ExpenseAccountTypes.Contains(a["AccountType"]?.GetValue<string>() ?? ""))),
                Choices(items.Where(i => i["Type"]?.GetValue<string>() != "Category")),
                Choices(vendors),
                Choices(taxCodes));
        }, cancellationToken);

    /// <summary>Every vendor of the tenant, mapped or not, by vendor code.</summary>
    public async Task<IReadOnlyList<QuickBooksVendorMapping>> VendorMappingsAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var query = from vendor in unitOfWork.Db.GetTable<MappedVendorRow>()
                    from mapping in unitOfWork.Db.GetTable<QuickBooksVendorMappingRow>().LeftJoin(m => m.VendorId == vendor.Id)
                    orderby vendor.VendorCode
                    select new { vendor, mapping };
        return (await query.ToListAsync(cancellationToken))
            .Select(row => new QuickBooksVendorMapping(row.vendor.Id, row.vendor.VendorCode, row.vendor.Name, row.vendor.Currency, row.mapping))
            .ToList();
    }

    public async Task<bool> VendorExistsAsync(Guid tenantId, Guid vendorId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.GetTable<MappedVendorRow>().AnyAsync(v => v.Id == vendorId, cancellationToken);
    }

    /// <summary>
    /// Maps one of our vendors to a QuickBooks vendor, with its own expense account or item (both null: the tenant's
    /// defaults). Returns the invoices of that vendor whose export waits, so they can be exported now.
    /// </summary>
    /// <exception cref="ArgumentException">No such vendor of ours, or the company has no such vendor, account or item.</exception>
    public async Task<(QuickBooksVendorMappingRow Mapping, IReadOnlyList<Guid> Waiting)> SetVendorMappingAsync(
        Guid tenantId, Guid vendorId, string qboVendorId, string? expenseAccountId, string? itemId, string actor, string? requestId,
        CancellationToken cancellationToken)
    {
        var qboVendor = await connections.CallAsync(
            tenantId, session => api.QueryEntitiesAsync(
                session, QuickBooksEntities.Vendor, $"select * from Vendor where Id = '{QuickBooksQuery.Escape(qboVendorId)}'", cancellationToken),
            cancellationToken);
        var chosen = (qboVendor.Count > 0 ? qboVendor[0] : null) ?? throw new ArgumentException($"The QuickBooks company has no vendor with the id {qboVendorId}.");
        if (expenseAccountId is not null)
        {
            await connections.NameOfAsync(tenantId, QuickBooksEntities.Account, expenseAccountId, cancellationToken);
        }

        if (itemId is not null)
        {
            await connections.NameOfAsync(tenantId, QuickBooksEntities.Item, itemId, cancellationToken);
        }

        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var vendor = await unitOfWork.Db.GetTable<MappedVendorRow>().FirstOrDefaultAsync(v => v.Id == vendorId, cancellationToken)
            ?? throw new ArgumentException($"There is no vendor {vendorId}.");
        var before = await unitOfWork.Db.GetTable<QuickBooksVendorMappingRow>().FirstOrDefaultAsync(m => m.VendorId == vendorId, cancellationToken);
        var mapping = new QuickBooksVendorMappingRow
        {
            TenantId = tenantId, VendorId = vendorId, QboVendorId = qboVendorId,
            QboVendorName = chosen["DisplayName"]?.GetValue<string>() ?? qboVendorId, QboVendorCurrency = chosen["CurrencyRef"]?["value"]?.GetValue<string>(),
            ExpenseAccountId = expenseAccountId, ItemId = itemId, Source = "user", UpdatedBy = actor, UpdatedAt = time.GetUtcNow(),
        };
        await unitOfWork.Db.InsertOrReplaceAsync(mapping, token: cancellationToken);
        await AuditLog.AppendAsync(
            unitOfWork, actor, "quickbooks.vendor_mapped", "vendor", vendor.VendorCode,
            before is null ? null : new { before.QboVendorId, before.QboVendorName, before.ExpenseAccountId, before.ItemId, before.Source },
            new { mapping.QboVendorId, mapping.QboVendorName, mapping.QboVendorCurrency, mapping.ExpenseAccountId, mapping.ItemId, mapping.Source },
            requestId, cancellationToken);
        var waiting = await (from export in unitOfWork.Db.GetTable<QuickBooksExportRow>()
                             join invoice in unitOfWork.Db.GetTable<VendorInvoiceRow>() on export.InvoiceId equals invoice.Id
                             where invoice.VendorId == vendorId && export.State == QuickBooksExportState.Waiting
                             select export.InvoiceId).ToListAsync(cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return (mapping, waiting);
    }

    private async Task<IReadOnlyList<JsonObject>> ActiveAsync(QuickBooksSession session, string entity, CancellationToken cancellationToken) =>
        (await api.QueryEntitiesAsync(session, entity, $"select * from {entity}", cancellationToken))
        .Where(e => e["Active"]?.GetValue<bool>() != false)
        .ToList();

    private static List<QuickBooksChoice> Choices(IEnumerable<JsonObject> entities) => entities
        .Select(e => new QuickBooksChoice(
            e["Id"]?.GetValue<string>() ?? "", (e["Name"] ?? e["DisplayName"])?.GetValue<string>() ?? "", e["CurrencyRef"]?["value"]?.GetValue<string>()))
        .Where(choice => choice.Id.Length > 0)
        .OrderBy(choice => choice.Name, StringComparer.OrdinalIgnoreCase)
        .ToList();

    [Table("vendors")]
    private sealed class MappedVendorRow
    {
        [Column("id")] public Guid Id { get; init; }

        [Column("vendor_code")] public string VendorCode { get; init; } = "";

        [Column("name")] public string Name { get; init; } = "";

        [Column("currency")] public string? Currency { get; init; }
    }

    [Table("invoices")]
    private sealed class VendorInvoiceRow
    {
        [Column("id")] public Guid Id { get; init; }

        [Column("vendor_id")] public Guid? VendorId { get; init; }
    }
}
