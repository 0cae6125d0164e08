using Invisible.Server.FieldEncryption;
using Invisible.Identity.Encryption;
using System.Text.Json.Nodes;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace Invisible.Server.QuickBooks;

public static class QuickBooksExportState
{
    public const string Waiting = "waiting";
    public const string Exported = "exported";
    public const string Failed = "failed";
    public const string Differs = "differs";
}

[Table("quickbooks_exports")]
public sealed class QuickBooksExportRow
{
    [Column("tenant_id"), PrimaryKey] public Guid TenantId { get; set; }

    [Column("invoice_id"), PrimaryKey] public Guid InvoiceId { get; set; }

    [Column("kind")] public string Kind { get; set; } = "bill";

    [Column("state")] public string State { get; set; } = QuickBooksExportState.Waiting;

    [Column("qbo_id")] public string? QboId { get; set; }

    [Column("sync_token")] public string? SyncToken { get; set; }

    [Column("attempt")] public int Attempt { get; set; } = 1;

    [Column("request_id")] public Guid RequestId { get; set; }

    [Column("reason")] public string? Reason { get; set; }

    [Column("fault_code")] public string? FaultCode { get; set; }

    [Column("sent", DataType = DataType.BinaryJson)] public string? Sent { get; set; }

    [Column("exported_at")] public DateTimeOffset? ExportedAt { get; set; }

    [Column("checked_at")] public DateTimeOffset? CheckedAt { get; set; }

    [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }

    public string EntityType => Kind == "vendor_credit" ? QuickBooksEntities.VendorCredit : QuickBooksEntities.Bill;
}

[Table("quickbooks_vendor_mappings")]
public sealed class QuickBooksVendorMappingRow
{
    [Column("tenant_id"), PrimaryKey] public Guid TenantId { get; set; }

    [Column("vendor_id"), PrimaryKey] public Guid VendorId { get; set; }

    [Column("qbo_vendor_id")] public string QboVendorId { get; set; } = "";

    [Column("qbo_vendor_name")] public string QboVendorName { get; set; } = "";

    [Column("expense_account_id")] public string? ExpenseAccountId { get; set; }

    [Column("item_id")] public string? ItemId { get; set; }

    [Column("qbo_vendor_currency")] public string? QboVendorCurrency { get; set; }

    [Column("source")] public string Source { get; set; } = "";

    [Column("updated_by")] public string UpdatedBy { get; set; } = "";

    [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What one export run did, as <c>quickbooks export</c> prints it.</summary>
public sealed record QuickBooksExportSummary(int Created, int AlreadyThere, int Waiting, int Failed, int Differs)
{
    public static QuickBooksExportSummary None { get; } = new(0, 0, 0, 0, 0);
}

/// <summary>
/// Matched and approved invoices become Bills (credit notes VendorCredits) in the tenant's QuickBooks company, read back
/// and compared. Idempotent: the export row with its requestid is stored before the create, the QuickBooks id after it; a
/// run that died in between sends the same requestid again and QuickBooks answers with the Bill it already made. A Fault
/// fails the export with its reason until a user retries it (a new attempt, so a new requestid); a throttled or
/// unanswered call leaves it waiting for the next run.
/// </summary>
public sealed class QuickBooksExporter(
    TenantDatabase database, QuickBooksConnections connections, QuickBooksApi api, PersonalDataKeys personalDataKeys, TimeProvider time,
    ILogger<QuickBooksExporter> logger)
{
    private const string Actor = "quickbooks";
    private static readonly string[] ExportedStatuses = ["matched", "approved"];

    private enum Outcome { Created, AlreadyThere, Waiting, Failed, Differs }

    /// <summary>Exports the tenant's matched and approved invoices not yet in QuickBooks (only <paramref name="invoiceIds"/> when given).</summary>
    /// <exception cref="QuickBooksNotConnectedException">The tenant has no usable connection.</exception>
    public async Task<QuickBooksExportSummary> ExportAsync(Guid tenantId, IReadOnlyCollection<Guid>? invoiceIds, CancellationToken cancellationToken)
    {
        var connection = await connections.FindAsync(tenantId, cancellationToken);
        if (connection is null || connection.Status != QuickBooksConnectionStatus.Connected)
        {
            throw new QuickBooksNotConnectedException(connection is null ? "The tenant has not connected QuickBooks." : $"QuickBooks is {connection.Status.Replace('_', ' ')}.");
        }

        List<(Guid Id, string? State)> candidates;
        await using (var unitOfWork = await database.BeginAsync(tenantId, cancellationToken))
        {
            var query = from invoice in unitOfWork.Db.GetTable<InvoiceRow>()
                        where ExportedStatuses.Contains(invoice.Status)
                        from export in unitOfWork.Db.GetTable<QuickBooksExportRow>().LeftJoin(e => e.InvoiceId == invoice.Id)
                        orderby invoice.InvoiceDate, invoice.Id
                        select new { invoice.Id, State = (string?)export.State };
            var rows = await query.ToListAsync(cancellationToken);
            candidates = rows.Where(row => invoiceIds is null || invoiceIds.Contains(row.Id)).Select(row => (row.Id, (string?)row.State)).ToList();
        }

        var counts = new Dictionary<Outcome, int>();
        foreach (var (invoiceId, state) in candidates)
        {
            var outcome = state switch
            {
                QuickBooksExportState.Exported or QuickBooksExportState.Differs => Outcome.AlreadyThere,
                QuickBooksExportState.Failed => Outcome.Failed,
                _ => await ExportOneAsync(tenantId, invoiceId, connection, cancellationToken),
            };
            counts[outcome] = counts.GetValueOrDefault(outcome) + 1;
        }

        return new QuickBooksExportSummary(
            counts.GetValueOrDefault(Outcome.Created), counts.GetValueOrDefault(Outcome.AlreadyThere), counts.GetValueOrDefault(Outcome.Waiting),
            counts.GetValueOrDefault(Outcome.Failed), counts.GetValueOrDefault(Outcome.Differs));
    }

    /// <summary>Tries a failed export again as a new attempt (a new requestid), then exports it.</summary>
    public async Task<QuickBooksExportSummary> RetryAsync(Guid tenantId, Guid invoiceId, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using (var unitOfWork = await database.BeginAsync(tenantId, cancellationToken))
        {
            var row = await unitOfWork.Db.GetTable<QuickBooksExportRow>().FirstOrDefaultAsync(e => e.InvoiceId == invoiceId, cancellationToken);
            if (row is not null && row.State == QuickBooksExportState.Failed)
            {
                row.Attempt++;
                row.RequestId = BillMapping.RequestId(tenantId, invoiceId, row.Attempt);
                row.State = QuickBooksExportState.Waiting;
                row.UpdatedAt = time.GetUtcNow();
                await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
                await AuditLog.AppendAsync(
                    unitOfWork, actor, "quickbooks.export_retried", "invoice", invoiceId.ToString(), new { state = QuickBooksExportState.Failed, row.Reason },
                    new { row.Attempt }, requestId, cancellationToken);
                await unitOfWork.CommitAsync(cancellationToken);
            }
        }

        return await ExportAsync(tenantId, [invoiceId], cancellationToken);
    }

    /// <summary>
    /// Compares what QuickBooks now holds for one of our Bills or VendorCredits (null: deleted) with what was sent, and flags the
    /// invoice "differs" (or clears the flag when they agree again). Returns false when the entity is not one we exported.
    /// </summary>
    public async Task<bool> CompareAsync(Guid tenantId, string entityType, string qboId, JsonObject? held, CancellationToken cancellationToken)
    {
        var kind = entityType == QuickBooksEntities.VendorCredit ? "vendor_credit" : "bill";
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var row = await unitOfWork.Db.GetTable<QuickBooksExportRow>().FirstOrDefaultAsync(e => e.Kind == kind && e.QboId == qboId, cancellationToken);
        if (row?.Sent is null)
        {
            return false;
        }

        await RecordComparisonAsync(unitOfWork, row, held, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return true;
    }

    private async Task<Outcome> ExportOneAsync(Guid tenantId, Guid invoiceId, QuickBooksConnectionRow connection, CancellationToken cancellationToken)
    {
        ExportInvoice invoice;
        VendorRow? vendor;
        QuickBooksVendorMappingRow? mapping;
        QuickBooksExportRow row;
        await using (var unitOfWork = await database.BeginAsync(tenantId, cancellationToken))
        {
            (invoice, vendor) = await LoadAsync(unitOfWork, invoiceId, cancellationToken);
            mapping = vendor is null ? null : await unitOfWork.Db.GetTable<QuickBooksVendorMappingRow>().FirstOrDefaultAsync(m => m.VendorId == vendor.Id, cancellationToken);
            var existing = await unitOfWork.Db.GetTable<QuickBooksExportRow>().FirstOrDefaultAsync(e => e.InvoiceId == invoiceId, cancellationToken);
            row = existing ?? new QuickBooksExportRow
            {
                TenantId = tenantId, InvoiceId = invoiceId, Kind = invoice.IsCreditNote ? "vendor_credit" : "bill", State = QuickBooksExportState.Waiting,
                Attempt = 1, RequestId = BillMapping.RequestId(tenantId, invoiceId, 1), UpdatedAt = time.GetUtcNow(),
            };
            if (existing is null)
            {
                // Stored (with its requestid) before anything is sent, so every later run of this attempt sends the same requestid.
                await unitOfWork.Db.InsertAsync(row, token: cancellationToken);
                await unitOfWork.CommitAsync(cancellationToken);
            }
        }

        try
        {
            return await connections.CallAsync(tenantId, session => SendAsync(session, connection, invoice, vendor, mapping, row, cancellationToken), cancellationToken);
        }
        catch (QuickBooksFaultException fault) when (!fault.IsTransient)
        {
            await SetStateAsync(tenantId, row, QuickBooksExportState.Failed, $"{fault.Message}", fault.Code, "quickbooks.export_failed", cancellationToken);
            return Outcome.Failed;
        }
        catch (Exception exception) when (exception is QuickBooksFaultException or HttpRequestException or IOException or TaskCanceledException
                                          && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("QuickBooks export of invoice {InvoiceId} of tenant {TenantId} waits for the next run: {Reason}", invoiceId, tenantId, exception.Message);
            await SetStateAsync(tenantId, row, QuickBooksExportState.Waiting, $"QuickBooks did not answer ({exception.Message}); tried again on the next run.", null, null, cancellationToken);
            return Outcome.Waiting;
        }
    }

    private async Task<Outcome> SendAsync(
        QuickBooksSession session, QuickBooksConnectionRow connection, ExportInvoice invoice, VendorRow? vendor, QuickBooksVendorMappingRow? mapping,
        QuickBooksExportRow row, CancellationToken cancellationToken)
    {
        if (vendor is null)
        {
            await SetStateAsync(row.TenantId, row, QuickBooksExportState.Waiting, "Map this vendor: the invoice has no resolved vendor.", null, null, cancellationToken);
            return Outcome.Waiting;
        }

        mapping ??= await MapVendorAsync(session, connection, vendor, cancellationToken);
        if (mapping is null)
        {
            await SetStateAsync(
                row.TenantId, row, QuickBooksExportState.Waiting,
                $"Map this vendor: no QuickBooks vendor has the tax id or the name of {vendor.VendorCode} {vendor.Name}.", null, null, cancellationToken);
            return Outcome.Waiting;
        }

        if (mapping.QboVendorCurrency is { } vendorCurrency && !string.Equals(vendorCurrency, invoice.Currency, StringComparison.OrdinalIgnoreCase))
        {
            await SetStateAsync(
                row.TenantId, row, QuickBooksExportState.Waiting,
                $"Map this vendor: invoice {invoice.InvoiceNumber} is in {invoice.Currency} but the QuickBooks vendor {mapping.QboVendorName} is kept in {vendorCurrency}; " +
                $"choose a QuickBooks vendor in {invoice.Currency} in Settings → QuickBooks → Mapping.", null, null, cancellationToken);
            return Outcome.Waiting;
        }

        // The vendor's own item or account first, then the tenant's default item, then its default account.
        var (itemId, accountId) = mapping.ItemId is not null ? (mapping.ItemId, null)
            : mapping.ExpenseAccountId is not null ? (null, mapping.ExpenseAccountId)
            : (connection.DefaultItemId, connection.DefaultExpenseAccountId);
        if (itemId is null && accountId is null)
        {
            await SetStateAsync(
                row.TenantId, row, QuickBooksExportState.Waiting, "Choose the default expense account or item in Settings → QuickBooks → Mapping.", null, null, cancellationToken);
            return Outcome.Waiting;
        }

        string? purchaseOrderId = null;
        if (invoice.PoNumber is not null)
        {
            var orders = await api.QueryEntitiesAsync(
                session, QuickBooksEntities.PurchaseOrder, $"select * from PurchaseOrder where DocNumber = '{QuickBooksQuery.Escape(invoice.PoNumber)}'", cancellationToken);
            purchaseOrderId = (orders.Count > 0 ? orders[0] : null)?["Id"]?.GetValue<string>();
        }

        var entity = BillMapping.ToEntity(invoice, new BillTarget(mapping.QboVendorId, accountId, purchaseOrderId, itemId, connection.DefaultTaxCodeId));
        var created = await api.CreateAsync(session, invoice.EntityType, entity, row.RequestId, cancellationToken);
        var qboId = created["Id"]?.GetValue<string>() ?? throw new HttpRequestException($"QuickBooks created a {invoice.EntityType} without an Id.");

        await using (var unitOfWork = await database.BeginAsync(row.TenantId, cancellationToken))
        {
            row.State = QuickBooksExportState.Exported;
            row.QboId = qboId;
            row.SyncToken = created["SyncToken"]?.GetValue<string>();
            row.Sent = entity.ToJsonString();
            row.Reason = null;
            row.FaultCode = null;
            row.ExportedAt = row.UpdatedAt = time.GetUtcNow();
            await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
            await AuditLog.AppendAsync(
                unitOfWork, Actor, "quickbooks.exported", "invoice", row.InvoiceId.ToString(), null,
                new { entity = invoice.EntityType, qboId, requestId = row.RequestId, row.Attempt, purchaseOrderLinked = purchaseOrderId is not null }, null, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }

        // Read back: what QuickBooks holds must be what was sent (a second requestid replay of an older attempt, an
        // automation rule or a bookkeeper can change it).
        var held = await api.ReadAsync(session, invoice.EntityType, qboId, cancellationToken);
        await using (var unitOfWork = await database.BeginAsync(row.TenantId, cancellationToken))
        {
            var differs = await RecordComparisonAsync(unitOfWork, row, held, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
            return differs ? Outcome.Differs : Outcome.Created;
        }
    }

    private async Task<QuickBooksVendorMappingRow?> MapVendorAsync(
        QuickBooksSession session, QuickBooksConnectionRow connection, VendorRow vendor, CancellationToken cancellationToken)
    {
        var vendors = await api.QueryEntitiesAsync(session, QuickBooksEntities.Vendor, "select * from Vendor", cancellationToken);
        var taxId = NormalizedTaxId(vendor.TaxId);
        var (found, source) = (taxId is null ? null : vendors.FirstOrDefault(v => NormalizedTaxId(v["TaxIdentifier"]?.GetValue<string>()) == taxId), "tax_id");
        if (found is null)
        {
            (found, source) = (vendors.FirstOrDefault(v => string.Equals(v["DisplayName"]?.GetValue<string>()?.Trim(), vendor.Name.Trim(), StringComparison.OrdinalIgnoreCase)), "name");
        }

        if (found is null && connection.CreateMissingVendors)
        {
            var body = new JsonObject { ["DisplayName"] = vendor.Name.Trim() };
            if (vendor.TaxId is not null)
            {
                body["TaxIdentifier"] = vendor.TaxId;
            }

            if (vendor.Currency is not null)
            {
                body["CurrencyRef"] = new JsonObject { ["value"] = vendor.Currency };
            }

            (found, source) = (await api.CreateAsync(session, QuickBooksEntities.Vendor, body, BillMapping.RequestId(vendor.TenantId, vendor.Id, 0), cancellationToken), "created");
        }

        if (found is null)
        {
            return null;
        }

        var mapping = new QuickBooksVendorMappingRow
        {
            TenantId = vendor.TenantId, VendorId = vendor.Id, QboVendorId = found["Id"]!.GetValue<string>(),
            QboVendorName = found["DisplayName"]?.GetValue<string>() ?? vendor.Name, QboVendorCurrency = found["CurrencyRef"]?["value"]?.GetValue<string>(),
            Source = source, UpdatedBy = Actor, UpdatedAt = time.GetUtcNow(),
        };
        await using var unitOfWork = await database.BeginAsync(vendor.TenantId, cancellationToken);
        await unitOfWork.Db.InsertOrReplaceAsync(mapping, token: cancellationToken);
        await AuditLog.AppendAsync(
            unitOfWork, Actor, "quickbooks.vendor_mapped", "vendor", vendor.VendorCode, null,
            new { mapping.QboVendorId, mapping.QboVendorName, mapping.QboVendorCurrency, mapping.Source }, null, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return mapping;
    }

    private async Task<bool> RecordComparisonAsync(TenantUnitOfWork unitOfWork, QuickBooksExportRow row, JsonObject? held, CancellationToken cancellationToken)
    {
        var differences = BillMapping.Differences(JsonNode.Parse(row.Sent!)!.AsObject(), held);
        var state = differences.Count > 0 ? QuickBooksExportState.Differs : QuickBooksExportState.Exported;
        var reason = differences.Count > 0 ? "Differs in QuickBooks: " + string.Join("; ", differences) : null;
        var before = new { row.State, row.Reason };
        row.CheckedAt = row.UpdatedAt = time.GetUtcNow();
        row.SyncToken = held?["SyncToken"]?.GetValue<string>() ?? row.SyncToken;
        var changed = row.State != state || row.Reason != reason;
        (row.State, row.Reason) = (state, reason);
        await unitOfWork.Db.UpdateAsync(row, token: cancellationToken);
        if (changed)
        {
            await AuditLog.AppendAsync(
                unitOfWork, Actor, state == QuickBooksExportState.Differs ? "quickbooks.differs" : "quickbooks.agrees", "invoice", row.InvoiceId.ToString(),
                before, new { state, reason, row.QboId }, null, cancellationToken);
        }

        return differences.Count > 0;
    }

    private async Task SetStateAsync(
        Guid tenantId, QuickBooksExportRow row, string state, string reason, string? faultCode, string? auditAction, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        (row.State, row.Reason, row.FaultCode, row.UpdatedAt) = (state, reason, faultCode, time.GetUtcNow());
        await unitOfWork.Db.GetTable<QuickBooksExportRow>()
            .Where(e => e.InvoiceId == row.InvoiceId)
            .Set(e => e.State, state).Set(e => e.Reason, reason).Set(e => e.FaultCode, faultCode).Set(e => e.UpdatedAt, row.UpdatedAt)
            .UpdateAsync(cancellationToken);
        if (auditAction is not null)
        {
            await AuditLog.AppendAsync(unitOfWork, Actor, auditAction, "invoice", row.InvoiceId.ToString(), null, new { state, reason, faultCode, row.Attempt }, null, cancellationToken);
        }

        if (state == QuickBooksExportState.Failed)
        {
            await EventOutbox.EnqueueAsync(unitOfWork, new QuickBooksExportFailed(Guid.NewGuid(), tenantId, row.UpdatedAt, row.InvoiceId, reason, faultCode), cancellationToken);
        }

        await unitOfWork.CommitAsync(cancellationToken);
    }

    private async Task<(ExportInvoice Invoice, VendorRow? Vendor)> LoadAsync(TenantUnitOfWork unitOfWork, Guid invoiceId, CancellationToken cancellationToken)
    {
        var db = unitOfWork.Db;
        var invoice = await db.GetTable<InvoiceRow>().FirstAsync(i => i.Id == invoiceId, cancellationToken);
        var vendor = invoice.VendorId is null ? null : await db.GetTable<VendorRow>().FirstOrDefaultAsync(v => v.Id == invoice.VendorId, cancellationToken);
        if (vendor is not null)
        {
            // The tax id is stored sealed (field-level encryption); QuickBooks matches and creates vendors by its clear value.
            var personalData = await personalDataKeys.DataAsync(cancellationToken);
            vendor.TaxId = personalData.Open(
                vendor.TaxIdEncrypted, PersonalDataFields.OfVendor(unitOfWork.TenantId, PersonalDataFields.VendorTaxId, vendor.VendorCode));
        }

        var poNumber = invoice.PurchaseOrderId is null
            ? invoice.PrintedPoNumber
            : await db.GetTable<PurchaseOrderRow>().Where(po => po.Id == invoice.PurchaseOrderId).Select(po => po.PoNumber).FirstOrDefaultAsync(cancellationToken);
        var lines = await db.GetTable<InvoiceLineRow>().Where(line => line.InvoiceId == invoiceId).OrderBy(line => line.LineNo)
            .Select(line => new ExportLine(line.LineNo, line.Sku, line.Description, line.Quantity, line.UnitPrice, line.LineAmount))
            .ToListAsync(cancellationToken);
        return (new ExportInvoice(
            invoice.Id, invoice.InvoiceNumber, DateOnly.FromDateTime(invoice.InvoiceDate), invoice.Currency, invoice.InvoiceTotal, poNumber,
            vendor?.PaymentTerms, lines), vendor);
    }

    private static string? NormalizedTaxId(string? taxId) =>
        string.IsNullOrWhiteSpace(taxId) ? null : new string(taxId.Where(char.IsLetterOrDigit).Select(char.ToUpperInvariant).ToArray());

    [Table("invoices")]
    private sealed class InvoiceRow
    {
        [Column("id")] public Guid Id { get; init; }

        [Column("invoice_number")] public string InvoiceNumber { get; init; } = "";

        [Column("printed_po_number")] public string? PrintedPoNumber { get; init; }

        [Column("vendor_id")] public Guid? VendorId { get; init; }

        [Column("purchase_order_id")] public Guid? PurchaseOrderId { get; init; }

        [Column("invoice_date")] public DateTime InvoiceDate { get; init; }

        [Column("currency")] public string Currency { get; init; } = "";

        [Column("invoice_total")] public decimal InvoiceTotal { get; init; }

        [Column("status")] public string Status { get; init; } = "";
    }

    [Table("invoice_lines")]
    private sealed class InvoiceLineRow
    {
        [Column("invoice_id")] public Guid InvoiceId { get; init; }

        [Column("line_no")] public int LineNo { get; init; }

        [Column("sku")] public string? Sku { get; init; }

        [Column("description")] public string Description { get; init; } = "";

        [Column("quantity")] public decimal Quantity { get; init; }

        [Column("unit_price")] public decimal UnitPrice { get; init; }

        [Column("line_amount")] public decimal LineAmount { get; init; }
    }

    [Table("purchase_orders")]
    private sealed class PurchaseOrderRow
    {
        [Column("id")] public Guid Id { get; init; }

        [Column("po_number")] public string PoNumber { get; init; } = "";
    }

    [Table("vendors")]
    private sealed class VendorRow
    {
        [Column("id")] public Guid Id { get; init; }

        [Column("tenant_id")] public Guid TenantId { get; init; }

        [Column("vendor_code")] public string VendorCode { get; init; } = "";

        [Column("name")] public string Name { get; init; } = "";

        [Column("tax_id_encrypted")] public byte[]? TaxIdEncrypted { get; init; }

        [NotColumn] public string? TaxId { get; set; }

        [Column("currency")] public string? Currency { get; init; }

        [Column("payment_terms")] public string? PaymentTerms { get; init; }
    }
}

/// <summary>How many of the tenant's invoices are in each export state.</summary>
public sealed class QuickBooksExportCounts(TenantDatabase database)
{
    public async Task<IReadOnlyDictionary<string, int>> ByStateAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.GetTable<QuickBooksExportRow>().GroupBy(e => e.State)
            .Select(g => new { State = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.State, g => g.Count, StringComparer.Ordinal, cancellationToken);
    }
}
