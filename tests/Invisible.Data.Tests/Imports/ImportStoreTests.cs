using Invisible.Identity.Encryption;
using System.Text;
using LinqToDB.Data;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Testing;

namespace Invisible.Data.Tests.Imports;

public sealed class ImportStoreTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private const string Vendors = """
        vendor_code,name,tax_id,country,currency
        V1,Acme Supplies Ltd,GB123456789,GB,GBP
        V2,Bolt & Nut GmbH,DE811111111,DE,EUR
        """;

    private const string PurchaseOrders = """
        po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price
        PO-1,V1,2026-01-05,GBP,1,A-1,Paper A4,10,3.50
        PO-1,V1,2026-01-05,GBP,2,A-2,Toner,2,80.00
        PO-2,V2,2026-01-06,EUR,1,B-1,Bolts M8,100,0.25
        """;

    private TestDatabase Database => fixture.Database;

    [SpecSamplesFact]
    public async Task The_four_sample_files_import_in_order_with_exact_row_counts()
    {
        var tenant = await Database.CreateTenantAsync();

        var vendors = await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", SpecSamples.Read("vendors.csv"));
        var orders = await ImportAsync(tenant.Id, DocumentKind.PurchaseOrders, "purchase_orders.csv", SpecSamples.Read("purchase_orders.csv"));
        var receipts = await ImportAsync(tenant.Id, DocumentKind.Receipts, "receipts.csv", SpecSamples.Read("receipts.csv"));
        var invoices = await ImportAsync(tenant.Id, DocumentKind.Invoices, "invoices.csv", SpecSamples.Read("invoices.csv"));

        Assert.All([vendors, orders, receipts, invoices], outcome => Assert.Equal(ImportOutcomeKind.Stored, outcome.Kind));
        Assert.Equal([8, 61, 62, 57], new[] { vendors, orders, receipts, invoices }.Select(o => o.Record.StoredCount));
        Assert.True(vendors.Record.ImportNo < orders.Record.ImportNo && orders.Record.ImportNo < receipts.Record.ImportNo
            && receipts.Record.ImportNo < invoices.Record.ImportNo);
        Assert.Equal(
            new TableCounts(8, 61, 62, 57, CountInvoicesInFile(SpecSamples.Read("invoices.csv"))),
            await CountAsync(tenant.Id));
        Assert.Equal(0, await ScalarAsync<long>(tenant.Id, "select count(*) from receipt_lines where purchase_order_line_id is null"));
    }

    [Fact]
    public async Task Re_importing_an_identical_file_is_a_no_op_reported_as_a_duplicate()
    {
        var tenant = await Database.CreateTenantAsync();
        var first = await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", Vendors);

        var again = await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors-copy.csv", Vendors);

        Assert.Equal(ImportOutcomeKind.Duplicate, again.Kind);
        Assert.Equal(first.Record.Id, again.Record.Id);
        Assert.Equal(1, await ScalarAsync<long>(tenant.Id, "select count(*) from imports"));
        Assert.Equal(2, (await CountAsync(tenant.Id)).Vendors);
    }

    [Fact]
    public async Task A_changed_purchase_order_replaces_its_current_version_and_the_replacement_is_audited()
    {
        var tenant = await Database.CreateTenantAsync();
        await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", Vendors);
        await ImportAsync(tenant.Id, DocumentKind.PurchaseOrders, "po.csv", PurchaseOrders);

        var changed = await ImportAsync(tenant.Id, DocumentKind.PurchaseOrders, "po-changed.csv", PurchaseOrders.Replace("Toner,2,80.00", "Toner,3,80.00", StringComparison.Ordinal));

        Assert.Equal(ImportOutcomeKind.Stored, changed.Kind);
        Assert.Equal(new ImportMergeSummary(Inserted: 0, Updated: 2, Unchanged: 1, ReplacedPurchaseOrders: 1), changed.Merge);
        var versions = (await QueryAsync<(int Version, bool Current, decimal Quantity)>(tenant.Id,
            """
            select p.version, p.superseded_at is null, l.quantity from purchase_orders p
            join purchase_order_lines l on l.purchase_order_id = p.id
            where p.po_number = 'PO-1' and l.line_no = 2 order by p.version
            """)).ToList();
        Assert.Equal([(1, false, 2m), (2, true, 3m)], versions);
        Assert.Equal(1, await ScalarAsync<int>(tenant.Id, "select version from purchase_orders where po_number = 'PO-2'"));
        var audit = await ScalarAsync<string>(tenant.Id,
            "select after->'lines'->1->>3 from audit_log where action = 'purchase_order.replaced' and entity_id = 'PO-1'");
        Assert.Equal(3m, decimal.Parse(audit, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_rejected_file_stores_nothing_but_its_record_and_every_error()
    {
        var tenant = await Database.CreateTenantAsync();
        await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", Vendors);
        var before = await CountAsync(tenant.Id);
        const string broken = """
            po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price
            PO-1,V1,2026-01-05,GBP,1,A-1,Paper A4,10,3.50
            PO-2,V9,2026-01-06,EUR,1,B-1,Bolts M8,100,0.25
            PO-3,V2,2026-01-07,EUR,1,B-2,Nuts M8,-5,0.10
            """;

        var outcome = await ImportAsync(tenant.Id, DocumentKind.PurchaseOrders, "po-broken.csv", broken);

        Assert.Equal(ImportOutcomeKind.Rejected, outcome.Kind);
        Assert.Equal(before, await CountAsync(tenant.Id));
        Assert.Equal(ImportRecordStatus.Rejected, outcome.Record.Status);
        Assert.Equal(2, outcome.Record.ErrorCount);
        var errors = await QueryAsync<(int Line, string Column)>(tenant.Id,
            "select line, column_name from import_errors where import_id = @id and severity = 'error' order by line",
            new { id = outcome.Record.Id });
        Assert.Equal([(3, "vendor_code"), (4, "quantity")], errors);
    }

    [Fact]
    public async Task A_rejected_file_can_be_imported_again_once_what_it_refers_to_exists()
    {
        var tenant = await Database.CreateTenantAsync();
        var early = await ImportAsync(tenant.Id, DocumentKind.PurchaseOrders, "po.csv", PurchaseOrders);
        await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", Vendors);

        var later = await ImportAsync(tenant.Id, DocumentKind.PurchaseOrders, "po.csv", PurchaseOrders);

        Assert.Equal(ImportOutcomeKind.Rejected, early.Kind);
        Assert.Equal(ImportOutcomeKind.Stored, later.Kind);
        Assert.Equal(3, later.Record.StoredCount);
    }

    [Fact]
    public async Task Imported_rows_are_invisible_to_another_tenant()
    {
        var tenants = await Database.CreateTwoTenantsAsync();
        await ImportAsync(tenants.First.Id, DocumentKind.Vendors, "vendors.csv", Vendors);
        await ImportAsync(tenants.First.Id, DocumentKind.PurchaseOrders, "po.csv", PurchaseOrders);

        var secondTenantsPurchaseOrders = await ImportAsync(tenants.Second.Id, DocumentKind.PurchaseOrders, "po.csv", PurchaseOrders);

        Assert.Equal(new TableCounts(0, 0, 0, 0, 0), await CountAsync(tenants.Second.Id));
        Assert.Equal(ImportOutcomeKind.Rejected, secondTenantsPurchaseOrders.Kind);
        Assert.Equal(new TableCounts(2, 3, 0, 0, 0), await CountAsync(tenants.First.Id));
    }

    [Fact]
    public async Task An_import_cancelled_mid_copy_leaves_nothing_and_the_retry_stores_exact_counts()
    {
        var tenant = await Database.CreateTenantAsync();
        await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", Vendors);
        var lines = new StringBuilder("invoice_number,vendor_name,invoice_date,currency,po_number,line_no,description,quantity,unit_price,line_amount,invoice_total\n");
        for (var i = 1; i <= 3_000; i++)
        {
            lines.Append(System.Globalization.CultureInfo.InvariantCulture, $"INV-{i},Acme Supplies,2026-02-01,GBP,PO-1,1,Paper,1,3.50,3.50,3.50\n");
        }

        var file = Encoding.UTF8.GetBytes(lines.ToString());
        using var cancellation = new CancellationTokenSource();
        var options = new ImportOptions { BatchSize = 500 };
        // Reported on the caller's thread, so the cancellation happens exactly when the reader reports.
        var cancelAfterFirstBatch = new SynchronousProgress<ImportProgress>(p =>
        {
            if (p.RowsProcessed >= 500)
            {
                cancellation.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            ImportAsync(tenant.Id, DocumentKind.Invoices, "invoices.csv", file, options, cancelAfterFirstBatch, cancellation.Token));

        Assert.Equal(new TableCounts(2, 0, 0, 0, 0), await CountAsync(tenant.Id));
        Assert.Equal(1, await ScalarAsync<long>(tenant.Id, "select count(*) from imports"));
        var retry = await ImportAsync(tenant.Id, DocumentKind.Invoices, "invoices.csv", file, options);
        Assert.Equal(ImportOutcomeKind.Stored, retry.Kind);
        Assert.Equal(new TableCounts(2, 0, 0, 3_000, 3_000), await CountAsync(tenant.Id));
    }

    [Fact]
    public async Task A_vendor_file_imported_again_with_a_changed_tax_id_updates_only_that_vendor_and_stages_no_plaintext()
    {
        var tenant = await Database.CreateTenantAsync();
        await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", "vendor_code,name,tax_id,email\nV1,Acme,GB111,ap@acme.example\nV2,Globex,DE222,\n");

        var again = await ImportAsync(tenant.Id, DocumentKind.Vendors, "vendors-2.csv", "vendor_code,name,tax_id,email\nV1,Acme,GB 999,ap@acme.example\nV2,Globex,DE222,\n");
        var stored = await QuerySingleAsync<SealedTaxId>(tenant.Id, "select tax_id_encrypted as TaxIdEncrypted, tax_id_index as TaxIdIndex from vendors where vendor_code = 'V1'");
        var sealing = GeneratedKeyVendorSealing.Instance;

        Assert.Multiple(
            () => Assert.Equal((0L, 1L), (again.Merge.Inserted, again.Merge.Updated)),
            () => Assert.Equal("GB 999", sealing.Data.Open(stored.TaxIdEncrypted, PersonalDataFields.OfVendor(tenant.Id, PersonalDataFields.VendorTaxId, "V1"))),
            () => Assert.Equal(sealing.Index.OfTaxId("gb999"), stored.TaxIdIndex),
            () => Assert.Equal(-1, stored.TaxIdEncrypted!.AsSpan().IndexOf("GB 999"u8)));
    }

    private sealed class SealedTaxId
    {
        public byte[]? TaxIdEncrypted { get; set; }

        public byte[]? TaxIdIndex { get; set; }
    }

    private Task<ImportOutcome> ImportAsync(Guid tenantId, DocumentKind kind, string fileName, string content) =>
        ImportAsync(tenantId, kind, fileName, Encoding.UTF8.GetBytes(content), ImportOptions.Default);

    private async Task<ImportOutcome> ImportAsync(
        Guid tenantId, DocumentKind kind, string fileName, byte[] content, ImportOptions? options = null,
        IProgress<ImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenantId, cancellationToken);
        var outcome = await ImportStore.StoreAsync(
            unitOfWork, new ImportRequest(kind, fileName, ImportSource.Cli, "test", RequestId: null), new MemoryStream(content),
            options ?? ImportOptions.Default, progress, cancellationToken, GeneratedKeyVendorSealing.Instance);
        await unitOfWork.CommitAsync(cancellationToken);
        return outcome;
    }

    // The invoices of the sample file are (vendor name, invoice number) pairs; neither column contains a comma or quote.
    private static int CountInvoicesInFile(byte[] file)
    {
        var rows = Encoding.UTF8.GetString(file).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')).ToList();
        var header = rows[0].Split(',');
        var number = Array.IndexOf(header, "invoice_number");
        var vendor = Array.IndexOf(header, "vendor_name");
        return rows.Skip(1).Select(row => row.Split(',')).Select(fields => (fields[vendor], fields[number])).Distinct().Count();
    }

    private async Task<TableCounts> CountAsync(Guid tenantId) =>
        await QuerySingleAsync<TableCounts>(tenantId,
            """
            select (select count(*) from vendors) as Vendors,
                   (select count(*) from purchase_order_lines l join purchase_orders p on p.id = l.purchase_order_id where p.superseded_at is null) as PurchaseOrderLines,
                   (select count(*) from receipt_lines) as ReceiptLines,
                   (select count(*) from invoice_lines) as InvoiceLines,
                   (select count(*) from invoices) as Invoices
            """);

    private async Task<T> ScalarAsync<T>(Guid tenantId, string sql)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenantId, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<T>(sql, CancellationToken.None) ?? throw new InvalidOperationException(sql);
    }

    private async Task<T> QuerySingleAsync<T>(Guid tenantId, string sql)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenantId, CancellationToken.None);
        return (await unitOfWork.Db.RowsAsync<T>(sql)).Single();
    }

    private async Task<List<T>> QueryAsync<T>(Guid tenantId, string sql, object? parameters = null)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenantId, CancellationToken.None);
        return await unitOfWork.Db.RowsAsync<T>(sql, parameters);
    }

    private sealed record TableCounts(long Vendors, long PurchaseOrderLines, long ReceiptLines, long InvoiceLines, long Invoices);
}
