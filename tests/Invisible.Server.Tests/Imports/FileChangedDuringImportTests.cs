using Invisible.Server.Tests.FieldEncryption;
using System.Security.Cryptography;
using System.Text;
using LinqToDB.Data;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Ingestion.Canonical;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.SampleData;
using Invisible.Server.Imports;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Imports;

/// <summary>
/// An import reads exactly one version of its file: a real file on disk is truncated or appended to by the test while the
/// import copies it, at a moment made deterministic by pausing the copy in its progress callback after its first block.
/// </summary>
public sealed class FileChangedDuringImportTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private readonly TemporaryDirectory _directory = new("invisible-file-changed-");

    private TestDatabase Database => fixture.Database;

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    private IOptions<RuntimeOptions> Runtime => Options.Create(new RuntimeOptions { DataDirectory = DataDirectory });

    private ImportService Service => new(
        Database.Tenants, new FileSystemBlobStore(Runtime), new ImportSpools(Runtime), TimeProvider.System, NullLogger<ImportService>.Instance, GeneratedPersonalDataKeys.Instance);

    [Fact]
    public async Task A_file_truncated_while_it_is_imported_is_rejected_naming_it_and_the_complete_file_then_stores_every_invoice_once()
    {
        var tenant = await Database.CreateTenantAsync();
        var (path, complete, expected) = await InvoicesFileAsync();

        var changed = await Assert.ThrowsAsync<FileChangedDuringImportException>(() => ImportChangingAsync(
            tenant.Id, path, afterFirstBlock: () => File.WriteAllBytes(path, complete.AsSpan(0, complete.Length / 2).ToArray())));
        await File.WriteAllBytesAsync(path, complete);
        var again = await ImportAsync(tenant.Id, path);

        Assert.Contains(path, changed.Message, StringComparison.Ordinal);
        Assert.Contains("changed while it was being read", changed.Message, StringComparison.Ordinal);
        Assert.Contains("Import it again once it is complete", changed.Message, StringComparison.Ordinal);
        Assert.Equal(ImportOutcomeKind.Stored, again.Kind);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(complete)), again.Record.ContentSha256);
        Assert.Equal((1L, expected.Invoices, expected.Lines), await CountsAsync(tenant.Id));
        await AssertKeptFilesMatchTheirHashesAsync(tenant.Id);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(DataDirectory, ImportSpools.FolderName)));
    }

    [Fact]
    public async Task A_file_appended_to_while_it_is_imported_stores_no_invoice_twice_once_the_complete_file_is_imported()
    {
        var tenant = await Database.CreateTenantAsync();
        var (path, complete, expected) = await InvoicesFileAsync();
        var half = complete.AsSpan(0, complete.AsSpan(0, complete.Length / 2).LastIndexOf((byte)'\n') + 1).ToArray();
        await File.WriteAllBytesAsync(path, half);

        // The exporter appends the rest while the first half is being read.
        var firstTry = await Record.ExceptionAsync(() => ImportChangingAsync(tenant.Id, path, afterFirstBlock: () =>
        {
            using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            file.Write(complete, half.Length, complete.Length - half.Length);
        }));
        var completeImport = await ImportAsync(tenant.Id, path);

        Assert.IsType<FileChangedDuringImportException>(firstTry);
        Assert.Equal(ImportOutcomeKind.Stored, completeImport.Kind);
        Assert.Equal((1L, expected.Invoices, expected.Lines), await CountsAsync(tenant.Id));
        await AssertKeptFilesMatchTheirHashesAsync(tenant.Id);
    }

    [Fact]
    public async Task A_duplicate_import_leaves_no_blob_folder_behind()
    {
        var tenant = await Database.CreateTenantAsync();
        var path = Path.Combine(_directory.Path, "vendors.csv");
        await File.WriteAllTextAsync(path, "vendor_code,name,country,currency\nV1,Acme Supplies Ltd,GB,GBP\n");

        var stored = await ImportAsync(tenant.Id, path, DocumentKind.Vendors);
        var duplicate = await ImportAsync(tenant.Id, path, DocumentKind.Vendors);

        Assert.Equal((ImportOutcomeKind.Stored, ImportOutcomeKind.Duplicate), (stored.Kind, duplicate.Kind));
        var files = Path.Combine(DataDirectory, FileSystemBlobStore.FolderName, KeptFiles.Root(tenant.Id));
        Assert.Equal([Path.Combine(DataDirectory, FileSystemBlobStore.FolderName, stored.Record.ContentBlob!).TrimEnd('/')], Directory.GetDirectories(files));
    }

    [Fact]
    public async Task A_temporary_file_left_by_a_dead_process_is_removed_at_start_and_one_in_use_is_not()
    {
        var spools = new ImportSpools(Runtime);
        await using var inUse = spools.Create("upload");
        var stale = Path.Combine(spools.Folder, $"upload-{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(stale, "what a server killed mid-upload left");

        await new ImportSpoolSweep(spools, NullLogger<ImportSpoolSweep>.Instance).StartAsync(CancellationToken.None);

        Assert.Equal(Path.Combine(Path.GetFullPath(DataDirectory), "tmp"), spools.Folder);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(inUse.Name));
    }

    private async Task<(string Path, byte[] Complete, (long Invoices, long Lines) Expected)> InvoicesFileAsync()
    {
        var generated = Path.Combine(_directory.Path, "generated");
        await CanonicalCsvWriter.WriteAsync(new TenantDataGenerator(5).Generate(new GeneratorOptions { Invoices = 9_000 }), generated, CancellationToken.None);
        var path = Path.Combine(generated, "invoices.csv");
        var complete = await File.ReadAllBytesAsync(path);
        // The copy pauses after its first block of 1 MiB: the file must be well beyond it for the change to fall mid-copy.
        Assert.True(complete.Length > 3 << 20, $"the generated file has only {complete.Length} bytes");
        var parsed = await ImportReader.ReadAllAsync<InvoiceLineRow>(
            new MemoryStream(complete), "invoices.csv", ImportOptions.Default, InMemoryReferenceData.Empty, CancellationToken.None);
        Assert.True(parsed.Result.Accepted);
        return (path, complete, (parsed.Rows.Max(row => row.InvoicePosition), parsed.Rows.Count));
    }

    /// <summary>Imports the file on disk, running <paramref name="afterFirstBlock"/> (once) when the first block has been copied.</summary>
    private async Task<ImportOutcome> ImportChangingAsync(Guid tenantId, string path, Action afterFirstBlock)
    {
        var changed = false;
        var progress = new SynchronousProgress<ImportProgress>(report =>
        {
            if (report.Phase == ImportPhase.Copying && !changed)
            {
                changed = true;
                afterFirstBlock();
            }
        });
        try
        {
            return await ImportAsync(tenantId, path, DocumentKind.Invoices, progress);
        }
        finally
        {
            Assert.True(changed, "the import never reported copying");
        }
    }

    private async Task<ImportOutcome> ImportAsync(
        Guid tenantId, string path, DocumentKind kind = DocumentKind.Invoices, IProgress<ImportProgress>? progress = null)
    {
        await using var content = File.OpenRead(path);
        return await Service.ImportAsync(
            tenantId, new ImportRequest(kind, Path.GetFileName(path), ImportSource.Cli, "tester", null), content, ImportOptions.Default, progress,
            CancellationToken.None);
    }

    private async Task<(long Imports, long Invoices, long Lines)> CountsAsync(Guid tenantId)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenantId, CancellationToken.None);
        return (await unitOfWork.Db.QueryToListAsync(
            row => (row.GetFieldValue<long>(0), row.GetFieldValue<long>(1), row.GetFieldValue<long>(2)),
            "select (select count(*) from imports where status = 'stored'), (select count(*) from invoices), (select count(*) from invoice_lines)", CancellationToken.None)).Single();
    }

    /// <summary>Every import's kept file has the hash its record carries: hash, kept bytes and stored rows are of one version.</summary>
    private async Task AssertKeptFilesMatchTheirHashesAsync(Guid tenantId)
    {
        foreach (var record in await Service.ListAsync(tenantId, beforeImportNo: null, pageSize: 100, CancellationToken.None))
        {
            using var kept = new MemoryStream();
            Assert.True(await Service.CopyFileAsync(tenantId, record.Id, kept, CancellationToken.None));
            Assert.Equal(record.ContentSha256, Convert.ToHexStringLower(SHA256.HashData(kept.ToArray())));
        }
    }

    public void Dispose() => _directory.Dispose();
}
