using Invisible.Data.Access;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.Server.Matching.Models;
using Npgsql;

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
    /// <summary>The row ids of the loaded documents, so decisions reference them without looking them up again.</summary>
    public SnapshotKeys Keys { get; init; } = SnapshotKeys.Empty;

    /// <summary>The tolerances row a decision for <paramref name="vendorCode"/> applied.</summary>
    public Guid ToleranceIdFor(string? vendorCode) =>
        vendorCode is not null && OverrideToleranceIds.TryGetValue(vendorCode, out var id) ? id : DefaultToleranceId;
}

/// <summary>
/// The database ids behind a <see cref="TenantSnapshot"/>, which the engine's documents do not carry: vendors by code,
/// current purchase orders (and their lines) by number, invoice lines by invoice and source line. Read in the same
/// transaction as the snapshot, so every id exists and belongs to the tenant.
/// </summary>
public sealed class SnapshotKeys
{
    public static readonly SnapshotKeys Empty = new(new Dictionary<string, Guid>(), new Dictionary<string, PurchaseOrderKeys>(), new Dictionary<Guid, InvoiceLineKey[]>());

    private readonly Dictionary<string, Guid> _vendors;
    private readonly Dictionary<string, PurchaseOrderKeys> _purchaseOrders;
    private readonly Dictionary<Guid, InvoiceLineKey[]> _invoiceLines;

    internal SnapshotKeys(Dictionary<string, Guid> vendors, Dictionary<string, PurchaseOrderKeys> purchaseOrders, Dictionary<Guid, InvoiceLineKey[]> invoiceLines)
    {
        _vendors = vendors;
        _purchaseOrders = purchaseOrders;
        _invoiceLines = invoiceLines;
    }

    public Guid? VendorId(string? vendorCode) => vendorCode is not null && _vendors.TryGetValue(vendorCode, out var id) ? id : null;

    /// <summary>The purchase order of that number at that version, when it is the current one (the only version a snapshot has).</summary>
    public Guid? PurchaseOrderId(string? poNumber, int? version) => Po(poNumber, version)?.Id;

    public Guid? PurchaseOrderLineId(string? poNumber, int? version, int? lineNo)
    {
        if (lineNo is not { } number || Po(poNumber, version) is not { } po)
        {
            return null;
        }

        foreach (var line in po.Lines)
        {
            if (line.LineNo == number)
            {
                return line.Id;
            }
        }

        return null;
    }

    public Guid? InvoiceLineId(Guid invoiceId, int sourceLine)
    {
        if (!_invoiceLines.TryGetValue(invoiceId, out var lines))
        {
            return null;
        }

        foreach (var line in lines)
        {
            if (line.SourceLine == sourceLine)
            {
                return line.Id;
            }
        }

        return null;
    }

    /// <summary>Adds the line ids of invoices stored after the snapshot was read (decided on their arrival).</summary>
    internal void AddInvoiceLines(IReadOnlyDictionary<Guid, InvoiceLineKey[]> invoiceLines)
    {
        foreach (var (invoiceId, lines) in invoiceLines)
        {
            _invoiceLines[invoiceId] = lines;
        }
    }

    private PurchaseOrderKeys? Po(string? poNumber, int? version) =>
        poNumber is not null && version is { } wanted && _purchaseOrders.TryGetValue(poNumber, out var po) && po.Version == wanted ? po : null;

    internal sealed record PurchaseOrderKeys(Guid Id, int Version, PurchaseOrderLineKey[] Lines);

    internal readonly record struct PurchaseOrderLineKey(int LineNo, Guid Id);

    internal readonly record struct InvoiceLineKey(int SourceLine, Guid Id);
}

/// <summary>
/// Loads everything of one tenant the matching engine reads, one set-based query per table (no per-invoice round trips):
/// vendors with their confirmed names, purchase orders at their current version, receipts, invoices in import order with
/// their file lines, the current tolerances, and the tenant's active similarity model (retrained and stored as a new
/// version first when its training set, the vendor master and aliases, changed since it was trained). The large tables
/// are read with a plain data reader (no per-row mapping layer) and grouped here rather than sorted by the database.
/// </summary>
public static class TenantSnapshotStore
{
    public static async Task<LoadedTenant> LoadAsync(TenantUnitOfWork unitOfWork, Identity.Encryption.PersonalData personalData, CancellationToken cancellationToken)
    {
        var (vendors, vendorIds) = await VendorsAsync(unitOfWork, personalData, cancellationToken);
        var shared = new SharedStrings();
        var (purchaseOrders, purchaseOrderKeys) = await PurchaseOrdersAsync(unitOfWork, shared, cancellationToken);
        var receipts = await ReceiptsAsync(unitOfWork, shared, cancellationToken);
        var (invoices, invoiceLineKeys) = await InvoicesAsync(unitOfWork, shared, cancellationToken);
        var (tolerances, defaultId, overrideIds) = await TolerancesAsync(unitOfWork, cancellationToken);
        var model = await SimilarityModelStore.EnsureActiveAsync(unitOfWork, personalData, cancellationToken);
        return new LoadedTenant(
            new TenantSnapshot(vendors, purchaseOrders, receipts, invoices) { SimilarityModel = model?.Model }, tolerances, defaultId, overrideIds)
        {
            Keys = new SnapshotKeys(vendorIds, purchaseOrderKeys, invoiceLineKeys),
        };
    }

    private static async Task<(List<Vendor> Vendors, Dictionary<string, Guid> Ids)> VendorsAsync(
        TenantUnitOfWork unitOfWork, Identity.Encryption.PersonalData personalData, CancellationToken cancellationToken)
    {
        var aliasRows = await unitOfWork.Db.WithCommandTimeout(MatchDecisionStore.RunCommandTimeoutSeconds, db => (
                from alias in db.GetTable<Invisible.Server.Vendors.ConfirmedAliases.AliasRow>()
                join vendor in db.GetTable<VendorCodeRow>() on alias.VendorId equals vendor.Id
                where alias.Kind == "name" && alias.Source != "master"
                orderby alias.CreatedAt, alias.Value
                select new AliasRow(vendor.Code, alias.Value, alias.Source == "reviewer")).ToListAsync(cancellationToken));
        var aliases = aliasRows.ToLookup(alias => alias.VendorCode, alias => alias.Name, StringComparer.Ordinal);
        var confirmed = aliasRows.Where(alias => alias.Confirmed).ToLookup(alias => alias.VendorCode, alias => alias.Name, StringComparer.Ordinal);
        var vendors = new List<Vendor>();
        var ids = new Dictionary<string, Guid>(StringComparer.Ordinal);
        await using var reader = await ReadAsync(unitOfWork,
            "select id, vendor_code, name, tax_id_encrypted, email_encrypted, country, currency, payment_terms from vendors where merged_into is null order by vendor_code", cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var code = reader.GetString(1);
            ids[code] = reader.GetGuid(0);
            // Tax ids and e-mail addresses are stored sealed (issue #20); the engine compares them in the clear, in memory only.
            var taxId = personalData.Open(NullableBytes(reader, 3), PersonalDataFields.OfVendor(unitOfWork.TenantId, PersonalDataFields.VendorTaxId, code));
            var email = personalData.Open(NullableBytes(reader, 4), PersonalDataFields.OfVendor(unitOfWork.TenantId, PersonalDataFields.VendorEmail, code));
            vendors.Add(new Vendor(code, reader.GetString(2), taxId, email, NullableString(reader, 5),
                NullableString(reader, 6), NullableString(reader, 7))
            {
                Aliases = aliases[code].ToList(),
                ConfirmedAliases = confirmed[code].ToList(),
            });
        }

        return (vendors, ids);
    }

    private static async Task<(List<PurchaseOrder> PurchaseOrders, Dictionary<string, SnapshotKeys.PurchaseOrderKeys> Keys)> PurchaseOrdersAsync(
        TenantUnitOfWork unitOfWork, SharedStrings shared, CancellationToken cancellationToken)
    {
        var linesByPo = new Dictionary<Guid, List<(Guid Id, PurchaseOrderLine Line)>>();
        await using (var reader = await ReadAsync(unitOfWork,
                         """
                         select l.purchase_order_id, l.id, l.line_no, l.sku, l.description, l.quantity, l.unit_price, l.receipt_required
                         from purchase_order_lines l join purchase_orders p on p.id = l.purchase_order_id
                         where p.superseded_at is null
                         """, cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var poId = reader.GetGuid(0);
                if (!linesByPo.TryGetValue(poId, out var lines))
                {
                    linesByPo[poId] = lines = new List<(Guid, PurchaseOrderLine)>(4);
                }

                lines.Add((reader.GetGuid(1), new PurchaseOrderLine(
                    reader.GetInt32(2), shared.Nullable(reader, 3), shared.Get(reader, 4), reader.GetDecimal(5), reader.GetDecimal(6), reader.GetBoolean(7))));
            }
        }

        var purchaseOrders = new List<PurchaseOrder>(linesByPo.Count);
        var keys = new Dictionary<string, SnapshotKeys.PurchaseOrderKeys>(linesByPo.Count, StringComparer.Ordinal);
        await using (var reader = await ReadAsync(unitOfWork,
                         """
                         select p.id, p.po_number, v.vendor_code, p.order_date, p.currency, p.version
                         from purchase_orders p join vendors v on v.id = p.vendor_id
                         where p.superseded_at is null
                         order by p.po_number
                         """, cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                var lines = linesByPo.TryGetValue(id, out var found) ? found : [];
                lines.Sort((left, right) => left.Line.LineNo.CompareTo(right.Line.LineNo));
                var poNumber = shared.Get(reader, 1);
                var version = reader.GetInt32(5);
                purchaseOrders.Add(new PurchaseOrder(
                    poNumber, shared.Get(reader, 2), reader.GetFieldValue<DateOnly>(3), shared.Get(reader, 4),
                    lines.ConvertAll(line => line.Line), version));
                keys[poNumber] = new SnapshotKeys.PurchaseOrderKeys(
                    id, version, lines.ConvertAll(line => new SnapshotKeys.PurchaseOrderLineKey(line.Line.LineNo, line.Id)).ToArray());
            }
        }

        return (purchaseOrders, keys);
    }

    private static async Task<List<ReceiptLine>> ReceiptsAsync(TenantUnitOfWork unitOfWork, SharedStrings shared, CancellationToken cancellationToken)
    {
        var receipts = new List<ReceiptLine>();
        await using var reader = await ReadAsync(unitOfWork,
            """
            select r.receipt_number, l.po_number, l.po_line_no, l.received_date, l.quantity_received
            from receipt_lines l join receipts r on r.id = l.receipt_id
            """, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            receipts.Add(new ReceiptLine(
                shared.Get(reader, 0), shared.Get(reader, 1), reader.GetInt32(2), reader.GetFieldValue<DateOnly>(3), reader.GetDecimal(4)));
        }

        return receipts;
    }

    /// <summary>The invoices no decision was made for yet (status pending), with their line ids.</summary>
    internal static Task<(List<Invoice> Invoices, Dictionary<Guid, SnapshotKeys.InvoiceLineKey[]> Keys)> PendingInvoicesAsync(
        TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        InvoicesAsync(unitOfWork, new SharedStrings(), cancellationToken, onlyPending: true);

    private static async Task<(List<Invoice> Invoices, Dictionary<Guid, SnapshotKeys.InvoiceLineKey[]> Keys)> InvoicesAsync(
        TenantUnitOfWork unitOfWork, SharedStrings shared, CancellationToken cancellationToken, bool onlyPending = false)
    {
        var linesByInvoice = new Dictionary<Guid, List<(Guid Id, InvoiceLine Line)>>();
        await using (var reader = await ReadAsync(unitOfWork,
                         """
                         select invoice_id, id, line_no, sku, description, quantity, unit_price, line_amount, tax_amount, source_line
                         from invoice_lines
                         """ + (onlyPending ? " where invoice_id in (select id from invoices where status = 'pending')" : ""), cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var invoiceId = reader.GetGuid(0);
                if (!linesByInvoice.TryGetValue(invoiceId, out var lines))
                {
                    linesByInvoice[invoiceId] = lines = new List<(Guid, InvoiceLine)>(4);
                }

                lines.Add((reader.GetGuid(1), new InvoiceLine(
                    reader.GetInt32(2), shared.Nullable(reader, 3), shared.Get(reader, 4), reader.GetDecimal(5), reader.GetDecimal(6), reader.GetDecimal(7),
                    reader.GetDecimal(8), reader.GetInt32(9))));
            }
        }

        var invoices = new List<Invoice>(linesByInvoice.Count);
        var keys = new Dictionary<Guid, SnapshotKeys.InvoiceLineKey[]>(linesByInvoice.Count);
        await using (var reader = await ReadAsync(unitOfWork,
                         """
                         select i.id, i.invoice_number, i.printed_vendor_name, i.printed_vendor_tax_id, i.invoice_date, i.currency,
                                i.printed_po_number, i.invoice_total, m.import_no
                         from invoices i join imports m on m.id = i.import_id
                         """ + (onlyPending ? " where i.status = 'pending'" : "") + " order by m.import_no, i.import_position", cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                if (!linesByInvoice.TryGetValue(id, out var lines))
                {
                    // Committed by a concurrent import between the two reads (each statement sees its own snapshot): every
                    // stored invoice has lines, so this one is left to the decision its own arrival event brings.
                    continue;
                }

                lines.Sort((left, right) => left.Line.SourceLine.CompareTo(right.Line.SourceLine));
                var invoiceLines = lines.ConvertAll(line => line.Line);
                invoices.Add(new Invoice(
                    id.ToString(), reader.GetString(1), shared.Get(reader, 2), shared.Nullable(reader, 3), reader.GetFieldValue<DateOnly>(4),
                    shared.Get(reader, 5), shared.Nullable(reader, 6), reader.GetDecimal(7),
                    new ImportOrigin(reader.GetInt64(8), invoiceLines.Min(line => line.SourceLine)), invoiceLines));
                keys[id] = lines.ConvertAll(line => new SnapshotKeys.InvoiceLineKey(line.Line.SourceLine, line.Id)).ToArray();
            }
        }

        return (invoices, keys);
    }

    private static async Task<(Tolerances Tolerances, Guid DefaultId, Dictionary<string, Guid> OverrideIds)> TolerancesAsync(
        TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        // The newest version of the tenant default and of each vendor override; older versions are history for old decisions.
        // SQL: 'distinct on' keeps the newest version of each vendor's tolerance.
        var rows = (await unitOfWork.Db.WithCommandTimeout(MatchDecisionStore.RunCommandTimeoutSeconds, db => db.QueryToListAsync<ToleranceRow>(
            """
            select distinct on (t.vendor_id)
                   t.id as Id, v.vendor_code as VendorCode, t.version as Version, t.price_tolerance_percent as PricePercent,
                   t.quantity_tolerance_percent as QuantityPercent, t.total_tolerance as TotalAbsolute
            from tolerances t left join vendors v on v.id = t.vendor_id
            order by t.vendor_id, t.version desc
            """, cancellationToken))).ToList();
        var tenantDefault = rows.SingleOrDefault(row => row.VendorCode is null)
            ?? throw new InvalidOperationException($"Tenant {unitOfWork.TenantId} has no default tolerances; every tenant is created with version 1.");
        var overrides = rows.Where(row => row.VendorCode is not null).ToList();
        var tolerances = new Tolerances(
            tenantDefault.Version,
            tenantDefault.ToRule(),
            overrides.ToDictionary(row => row.VendorCode!, row => row.ToRule(), StringComparer.Ordinal));
        return (tolerances, tenantDefault.Id, overrides.ToDictionary(row => row.VendorCode!, row => row.Id, StringComparer.Ordinal));
    }

    private static async Task<NpgsqlDataReader> ReadAsync(TenantUnitOfWork unitOfWork, string sql, CancellationToken cancellationToken)
    {
        // SQL: the snapshot's bulk reads stream through a data reader with the run's command timeout (hundreds of thousands of rows).
        await using var command = new NpgsqlCommand(sql, unitOfWork.Connection, unitOfWork.Transaction)
        {
            CommandTimeout = MatchDecisionStore.RunCommandTimeoutSeconds,
        };
        return await command.ExecuteReaderAsync(cancellationToken);
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static byte[]? NullableBytes(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<byte[]>(ordinal);

    private sealed record AliasRow(string VendorCode, string Name, bool Confirmed);

    /// <summary>
    /// One instance of each text a load reads many times over (item descriptions and SKUs, PO numbers, vendor codes and
    /// printed names, currencies): a large tenant's half a million lines repeat a few thousand texts, and the snapshot
    /// stays in memory for the whole run. Lives for one load; texts that are unique per row are not kept in it.
    /// </summary>
    internal sealed class SharedStrings
    {
        private readonly HashSet<string> _strings = new(StringComparer.Ordinal);

        public string Get(NpgsqlDataReader reader, int ordinal)
        {
            var value = reader.GetString(ordinal);
            if (_strings.TryGetValue(value, out var shared))
            {
                return shared;
            }

            _strings.Add(value);
            return value;
        }

        public string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Get(reader, ordinal);
    }

    [LinqToDB.Mapping.Table("vendors")]
    private sealed class VendorCodeRow
    {
        [LinqToDB.Mapping.Column("id")]
        public Guid Id { get; set; }

        [LinqToDB.Mapping.Column("vendor_code")]
        public string Code { get; set; } = "";
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
