using Invisible.Server.Tests.FieldEncryption;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LinqToDB.Data;
using Invisible.Data.Audit;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Platform.Events;
using Invisible.Server.Imports;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Imports;

public sealed class ImportServiceTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private const string Vendors = """
        vendor_code,name,country,currency
        V1,Acme Supplies Ltd,GB,GBP
        V2,Bolt & Nut GmbH,DE,EUR
        """;

    private const string ReceiptsForUnknownOrders = """
        receipt_number,po_number,po_line_no,received_date,quantity_received
        GR-1,PO-404,1,2026-01-10,5
        GR-1,PO-404,2,2026-01-10,0
        """;

    private readonly TemporaryDirectory _dataDirectory = new("invisible-import-service-");

    private TestDatabase Database => fixture.Database;

    private ImportService Service => new(
        Database.Tenants,
        new FileSystemBlobStore(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
        Spools,
        TimeProvider.System,
        NullLogger<ImportService>.Instance, GeneratedPersonalDataKeys.Instance);

    private ImportSpools Spools => new(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path }));

    private UploadSessions Uploads => new(
        new PostgresStateStore(Database.AppDataSource),
        new FileSystemBlobStore(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
        Spools,
        Options.Create(new UploadQuotaOptions()),
        TimeProvider.System);

    [Fact]
    public async Task A_stored_file_publishes_one_file_imported_event_in_the_same_transaction_and_a_duplicate_publishes_none()
    {
        var tenant = await Database.CreateTenantAsync();

        var stored = await ImportAsync(tenant.Id, DocumentKind.Vendors, Vendors);
        var duplicate = await ImportAsync(tenant.Id, DocumentKind.Vendors, Vendors);

        Assert.Equal(ImportOutcomeKind.Stored, stored.Kind);
        Assert.Equal(ImportOutcomeKind.Duplicate, duplicate.Kind);
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        var events = (await unitOfWork.Db.QueryToListAsync<string>(
            "select payload->>'importId' from outbox where topic = @topic", new { topic = EventTopics.Of<FileImported>() }, CancellationToken.None)).ToList();
        Assert.Equal([stored.Record.Id.ToString()], events);
    }

    [Fact]
    public async Task A_rejected_file_offers_its_error_csv_to_its_own_tenant_only()
    {
        var tenants = await Database.CreateTwoTenantsAsync();

        var rejected = await ImportAsync(tenants.First.Id, DocumentKind.Receipts, ReceiptsForUnknownOrders);

        Assert.Equal(ImportOutcomeKind.Rejected, rejected.Kind);
        var csv = Encoding.UTF8.GetString((await Service.GetErrorCsvAsync(tenants.First.Id, rejected.Record.Id, CancellationToken.None))!);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("file,line,column,value,reason", lines[0]);
        Assert.Equal(rejected.Parse.TotalErrorCount, lines.Length - 1);
        Assert.Contains(lines, line => line.StartsWith("receipts.csv,3,quantity_received,0,", StringComparison.Ordinal));
        Assert.Null(await Service.GetErrorCsvAsync(tenants.Second.Id, rejected.Record.Id, CancellationToken.None));
        Assert.Null(await Service.FindAsync(tenants.Second.Id, rejected.Record.Id, CancellationToken.None));
    }

    [Fact]
    public async Task The_history_lists_imports_newest_first_in_pages()
    {
        var tenant = await Database.CreateTenantAsync();
        var first = await ImportAsync(tenant.Id, DocumentKind.Receipts, ReceiptsForUnknownOrders);
        var second = await ImportAsync(tenant.Id, DocumentKind.Vendors, Vendors);
        var third = await ImportAsync(tenant.Id, DocumentKind.Receipts, ReceiptsForUnknownOrders);

        var page1 = await Service.ListAsync(tenant.Id, beforeImportNo: null, pageSize: 2, CancellationToken.None);
        var page2 = await Service.ListAsync(tenant.Id, page1[^1].ImportNo, pageSize: 2, CancellationToken.None);

        Assert.Equal([third.Record.Id, second.Record.Id], page1.Select(r => r.Id));
        Assert.Equal([first.Record.Id], page2.Select(r => r.Id));
    }

    [Fact]
    public async Task A_file_uploaded_in_chunks_is_assembled_in_order_and_checked_against_its_sha256()
    {
        var tenant = await Database.CreateTenantAsync();
        var file = Encoding.UTF8.GetBytes(Vendors);
        var session = await Uploads.StartAsync(tenant.Id, DocumentKind.Vendors, "vendors.csv", file.Length, new UploadOptions(null, null, null, null), "test", CancellationToken.None);

        await Uploads.AppendAsync(tenant.Id, session.UploadId, 0, file.AsMemory(0, 10), CancellationToken.None);
        var skipped = await Assert.ThrowsAsync<UploadException>(() =>
            Uploads.AppendAsync(tenant.Id, session.UploadId, 20, file.AsMemory(20), CancellationToken.None));
        var received = await Uploads.AppendAsync(tenant.Id, session.UploadId, 10, file.AsMemory(10), CancellationToken.None);
        var wrongSum = await Assert.ThrowsAsync<UploadException>(() =>
            Uploads.CompleteAsync(tenant.Id, session.UploadId, new string('0', 64), CancellationToken.None));
        var (_, content) = await Uploads.CompleteAsync(tenant.Id, session.UploadId, Convert.ToHexString(SHA256.HashData(file)), CancellationToken.None);

        Assert.Equal((UploadException.OffsetMismatch, 10L), (skipped.Reason, skipped.ExpectedOffset));
        Assert.Equal(file.Length, received);
        Assert.Equal(UploadException.ChecksumMismatch, wrongSum.Reason);
        await using (content)
        {
            using var copy = new MemoryStream();
            await content.Stream.CopyToAsync(copy);
            Assert.Equal(file, copy.ToArray());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(file)), content.Sha256);
            // Assembled under the data directory, where a sweep at start finds it if the server dies before the import ends.
            Assert.Equal(Path.Combine(_dataDirectory.Path, ImportSpools.FolderName), Path.GetDirectoryName(content.Stream.Name));
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dataDirectory.Path, ImportSpools.FolderName)));

        var gone = await Assert.ThrowsAsync<UploadException>(() =>
            Uploads.AppendAsync(tenant.Id, session.UploadId, file.Length, Array.Empty<byte>(), CancellationToken.None));
        Assert.Equal(UploadException.NotFound, gone.Reason);
    }

    [Fact]
    public async Task Another_tenant_cannot_continue_an_upload()
    {
        var tenants = await Database.CreateTwoTenantsAsync();
        var session = await Uploads.StartAsync(tenants.First.Id, DocumentKind.Vendors, "vendors.csv", 10, new UploadOptions(null, null, null, null), "test", CancellationToken.None);

        var refused = await Assert.ThrowsAsync<UploadException>(() =>
            Uploads.AppendAsync(tenants.Second.Id, session.UploadId, 0, new byte[10], CancellationToken.None));

        Assert.Equal(UploadException.NotFound, refused.Reason);
    }

    [Fact]
    public async Task The_uploaded_file_is_kept_as_a_blob_referenced_from_its_import_whether_stored_or_rejected()
    {
        var tenants = await Database.CreateTwoTenantsAsync();

        var stored = await ImportAsync(tenants.First.Id, DocumentKind.Vendors, Vendors);
        var rejected = await ImportAsync(tenants.First.Id, DocumentKind.Receipts, ReceiptsForUnknownOrders);
        var duplicate = await ImportAsync(tenants.First.Id, DocumentKind.Vendors, Vendors);

        Assert.Equal(Vendors, await KeptFileAsync(tenants.First.Id, stored.Record.Id));
        Assert.Equal(ReceiptsForUnknownOrders, await KeptFileAsync(tenants.First.Id, rejected.Record.Id));
        var reread = await Service.FindAsync(tenants.First.Id, stored.Record.Id, CancellationToken.None);
        Assert.Equal(stored.Record.ContentBlob, reread!.ContentBlob);
        Assert.StartsWith($"tenants/{tenants.First.Id:N}/imports/files/", reread.ContentBlob, StringComparison.Ordinal);
        Assert.Equal(stored.Record.Id, duplicate.Record.Id); // a duplicate keeps nothing new: it points at the earlier import
        Assert.Null(await KeptFileAsync(tenants.Second.Id, stored.Record.Id)); // and another tenant cannot fetch it
    }

    [Fact]
    public async Task A_file_larger_than_a_chunk_is_kept_whole()
    {
        var tenant = await Database.CreateTenantAsync();
        var vendors = new StringBuilder("vendor_code,name,country\n");
        for (var i = 0; vendors.Length <= ImportService.FileChunkBytes + 1000; i++)
        {
            vendors.Append(CultureInfo.InvariantCulture, $"V{i},Vendor number {i} with a long enough name to fill the chunk quickly,DE\n");
        }

        var stored = await ImportAsync(tenant.Id, DocumentKind.Vendors, vendors.ToString());

        Assert.Equal(ImportOutcomeKind.Stored, stored.Kind);
        Assert.Equal(vendors.ToString(), await KeptFileAsync(tenant.Id, stored.Record.Id));
    }

    [Fact]
    public async Task A_saved_column_mapping_is_used_by_later_imports_of_that_kind_only()
    {
        var tenants = await Database.CreateTwoTenantsAsync();
        const string OwnHeaders = """
            Lieferanten-Nr;Firma;Land
            V1;Acme Supplies Ltd;GB
            """;

        var withoutMapping = await ImportAsync(tenants.First.Id, DocumentKind.Vendors, OwnHeaders);
        var (saved, problems) = await Service.SaveColumnMappingAsync(
            tenants.First.Id, DocumentKind.Vendors,
            [KeyValuePair.Create("Lieferanten-Nr", "vendor_code"), KeyValuePair.Create("Firma", "name"), KeyValuePair.Create("Land", "country")],
            "test-user", null, CancellationToken.None);
        var withMapping = await ImportAsync(tenants.First.Id, DocumentKind.Vendors, OwnHeaders);
        var otherTenant = await ImportAsync(tenants.Second.Id, DocumentKind.Vendors, OwnHeaders);
        var (invalid, invalidProblems) = await Service.SaveColumnMappingAsync(
            tenants.First.Id, DocumentKind.Vendors, [KeyValuePair.Create("Firma", "invoice_total")], "test-user", null, CancellationToken.None);

        Assert.Equal(ImportOutcomeKind.Rejected, withoutMapping.Kind);
        Assert.Empty(problems);
        Assert.Equal(new Dictionary<string, string> { ["lieferantennr"] = "vendor_code", ["firma"] = "name", ["land"] = "country" }, saved);
        Assert.Equal(ImportOutcomeKind.Stored, withMapping.Kind);
        Assert.Equal(ImportOutcomeKind.Rejected, otherTenant.Kind); // the mapping is the first tenant's own
        Assert.Null(invalid);
        Assert.Contains("invoice_total", Assert.Single(invalidProblems), StringComparison.Ordinal);
        Assert.Equal(saved, await Service.GetColumnMappingAsync(tenants.First.Id, DocumentKind.Vendors, CancellationToken.None));
        Assert.Empty(await Service.GetColumnMappingAsync(tenants.First.Id, DocumentKind.Invoices, CancellationToken.None));
    }

    private async Task<string?> KeptFileAsync(Guid tenantId, Guid importId)
    {
        using var buffer = new MemoryStream();
        return await Service.CopyFileAsync(tenantId, importId, buffer, CancellationToken.None) ? Encoding.UTF8.GetString(buffer.ToArray()) : null;
    }

    [Fact]
    public async Task An_invoice_import_and_a_decision_on_arrival_of_the_same_tenant_at_the_same_moment_do_not_deadlock()
    {
        var tenant = await Database.CreateTenantAsync();
        const string invoices = """
            invoice_number,vendor_name,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,invoice_total
            INV-1,Acme Supplies,2026-01-12,GBP,PO1,1,P-A4,Paper A4,5,3.50,17.50,17.50
            """;

        // The end of a decision on arrival of 500 invoices or more, as MatchDecisionStore and InvoiceRedecision run it: the
        // statistics of what it wrote (ANALYZE locks each table until the transaction ends), then its audit entry (the
        // tenant's audit lock). The import starts while the decision holds the first and is about to ask for the second.
        await using var decision = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        await TableStatistics.RefreshAsync(decision, ["match_decisions", "line_decisions", "exceptions", "invoices"], CancellationToken.None);
        var import = Task.Run(() => ImportAsync(tenant.Id, DocumentKind.Invoices, invoices, "invoices.csv"));
        await UntilWaitingForALockOrDoneAsync(decision, import);

        var failures = new List<string>();
        try
        {
            await AuditLog.AppendAsync(decision, "engine", "matching.decided_on_arrival", "import", "arrival", null, new { kind = "invoices" }, null, CancellationToken.None);
            await decision.CommitAsync(CancellationToken.None);
        }
        catch (Npgsql.PostgresException e)
        {
            failures.Add($"decision on arrival: {e.SqlState} {e.MessageText}");
        }

        try
        {
            Assert.Equal(ImportOutcomeKind.Stored, (await import).Kind);
        }
        catch (Npgsql.PostgresException e)
        {
            failures.Add($"import: {e.SqlState} {e.MessageText}");
        }

        Assert.True(failures.Count == 0, string.Join("; ", failures));
    }

    /// <summary>Until another session of this database waits for a lock (the import, behind the decision's), or the import ended.</summary>
    private static async Task UntilWaitingForALockOrDoneAsync(TenantUnitOfWork observer, Task import)
    {
        for (var attempt = 0; attempt < 3000 && !import.IsCompleted; attempt++)
        {
            // pg_locks is read anew by every query, unlike pg_stat_activity, whose snapshot lasts the observer's transaction.
            var waiting = await observer.Db.ExecuteAsync<bool>(
                """
                select exists (select from pg_locks where not granted and pid <> pg_backend_pid()
                               and database = (select oid from pg_database where datname = current_database()))
                """, CancellationToken.None);
            if (waiting)
            {
                return;
            }

            await Task.Delay(10);
        }
    }

    private Task<ImportOutcome> ImportAsync(Guid tenantId, DocumentKind kind, string content, string? fileName = null) =>
        Service.ImportAsync(
            tenantId,
            new ImportRequest(kind, fileName ?? (kind == DocumentKind.Vendors ? "vendors.csv" : "receipts.csv"), ImportSource.Upload, "test-user", "request-1"),
            new MemoryStream(Encoding.UTF8.GetBytes(content)),
            ImportOptions.Default,
            progress: null,
            CancellationToken.None);

    public void Dispose() => _dataDirectory.Dispose();
}
