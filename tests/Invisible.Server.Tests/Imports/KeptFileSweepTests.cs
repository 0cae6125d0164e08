using Invisible.Server.Tests.FieldEncryption;
using System.Text;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Server.Imports;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Imports;

public sealed class KeptFileSweepTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private const string Vendors = """
        vendor_code,name,country,currency
        V1,Acme Supplies Ltd,GB,GBP
        """;

    private readonly TemporaryDirectory _dataDirectory = new("invisible-kept-file-sweep-");

    private TestDatabase Database => fixture.Database;

    private FileSystemBlobStore Blobs => new(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path }));

    private ImportSpools Spools => new(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path }));

    [Fact]
    public async Task Only_unreferenced_files_older_than_the_grace_period_are_removed()
    {
        var now = DateTimeOffset.UtcNow;
        var tenant = await Database.CreateTenantAsync();
        var imported = await new ImportService(Database.Tenants, Blobs, Spools, TimeProvider.System, NullLogger<ImportService>.Instance, GeneratedPersonalDataKeys.Instance).ImportAsync(
            tenant.Id, new ImportRequest(DocumentKind.Vendors, "vendors.csv", ImportSource.Cli, "tester", null),
            new MemoryStream(Encoding.UTF8.GetBytes(Vendors)), ImportOptions.Default, progress: null, CancellationToken.None);
        // What a killed import leaves: chunks under a dated folder no import references, from two days ago and from just now,
        // and an undated folder kept before file ids carried their date.
        var abandoned = await KeepAsync(KeptFiles.NewPrefix(tenant.Id, now.AddDays(-2)), chunks: 2);
        var inProgress = await KeepAsync(KeptFiles.NewPrefix(tenant.Id, now.AddMinutes(-5)), chunks: 1);
        var undated = await KeepAsync($"{KeptFiles.Root(tenant.Id)}{Guid.NewGuid():N}/", chunks: 1);
        var sweep = new KeptFileSweep(
            Database.TenantDirectory, Database.Tenants, Blobs, Options.Create(new KeptFileOptions { OrphanGracePeriod = TimeSpan.FromDays(1) }),
            TimeProvider.System, NullLogger<KeptFileSweep>.Instance);

        var report = await sweep.SweepAsync(CancellationToken.None);

        Assert.Equal(new KeptFileSweepReport(1, 2), report);
        Assert.Empty(await Blobs.ListAsync(abandoned, CancellationToken.None));
        Assert.Single(await Blobs.ListAsync(inProgress, CancellationToken.None));
        Assert.Single(await Blobs.ListAsync(undated, CancellationToken.None));
        Assert.NotEmpty(await Blobs.ListAsync(imported.Record.ContentBlob!, CancellationToken.None));
        Assert.Equal(new KeptFileSweepReport(0, 0), await sweep.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_referenced_file_is_kept_however_old()
    {
        var tenant = await Database.CreateTenantAsync();
        var twoDaysAgo = new ShiftedTime(TimeSpan.FromDays(-2));
        var imported = await new ImportService(Database.Tenants, Blobs, Spools, twoDaysAgo, NullLogger<ImportService>.Instance, GeneratedPersonalDataKeys.Instance).ImportAsync(
            tenant.Id, new ImportRequest(DocumentKind.Vendors, "vendors.csv", ImportSource.Cli, "tester", null),
            new MemoryStream(Encoding.UTF8.GetBytes(Vendors)), ImportOptions.Default, progress: null, CancellationToken.None);
        var fileId = imported.Record.ContentBlob![KeptFiles.Root(tenant.Id).Length..].TrimEnd('/');
        Assert.True(KeptFiles.TryGetKeptAt(fileId, out var keptAt));
        Assert.InRange(keptAt, DateTimeOffset.UtcNow.AddDays(-2).AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(-2).AddMinutes(1));

        var report = await new KeptFileSweep(
            Database.TenantDirectory, Database.Tenants, Blobs, Options.Create(new KeptFileOptions()), TimeProvider.System,
            NullLogger<KeptFileSweep>.Instance).SweepAsync(CancellationToken.None);

        Assert.Equal(0, report.FilesRemoved);
        Assert.NotEmpty(await Blobs.ListAsync(imported.Record.ContentBlob!, CancellationToken.None));
    }

    public void Dispose() => _dataDirectory.Dispose();

    private async Task<string> KeepAsync(string prefix, int chunks)
    {
        for (var chunk = 0; chunk < chunks; chunk++)
        {
            await Blobs.PutAsync($"{prefix}{chunk * ImportService.FileChunkBytes:D15}", new byte[] { 1, 2, 3 }, CancellationToken.None);
        }

        return prefix;
    }

    private sealed class ShiftedTime(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + shift;
    }
}
