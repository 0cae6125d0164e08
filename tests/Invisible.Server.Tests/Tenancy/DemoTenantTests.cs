using Invisible.Server.Tests.FieldEncryption;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Blobs;
using Invisible.Platform.Embedded;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Invisible.Server.Tenancy;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Tenancy;

/// <summary>
/// What <c>up</c> does for the demo tenant, against a real database with the product's import and matching services
/// (composed here rather than by starting the whole host, so the test depends only on what the demo needs).
/// </summary>
public sealed class DemoTenantTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private readonly TemporaryDirectory _dataDirectory = new("invisible-demo-tenant-");

    [Fact]
    public async Task The_first_start_fills_the_demo_tenant_with_reconciled_invoices_and_later_starts_change_nothing()
    {
        await using var services = Services();

        var first = await DemoTenant.EnsureAsync(services, CancellationToken.None);
        var tenant = (await fixture.Database.TenantDirectory.FindBySlugAsync(DemoTenant.Slug, CancellationToken.None))!;
        var importsAfterFirst = await services.GetRequiredService<ImportService>().ListAsync(tenant.Id, null, 50, CancellationToken.None);
        var resultsAfterFirst = await services.GetRequiredService<InvoiceMatching>().LatestResultsAsync(tenant.Id, CancellationToken.None);
        var second = await DemoTenant.EnsureAsync(services, CancellationToken.None);
        var importsAfterSecond = await services.GetRequiredService<ImportService>().ListAsync(tenant.Id, null, 50, CancellationToken.None);

        Assert.Equal(first, second); // the same sign-in, so the SPA's e2e test and a returning user keep working
        Assert.Equal(
            [DocumentKind.Invoices, DocumentKind.Receipts, DocumentKind.PurchaseOrders, DocumentKind.Vendors],
            importsAfterFirst.Select(record => record.Kind));
        Assert.All(importsAfterFirst, record => Assert.Equal(ImportRecordStatus.Stored, record.Status));
        Assert.Equal(importsAfterFirst.Select(r => r.Id), importsAfterSecond.Select(r => r.Id));

        Assert.Equal(importsAfterFirst[0].RowCount, resultsAfterFirst.Count); // every invoice line has a decision: reconciled
        var statuses = resultsAfterFirst.Select(row => row.InvoiceStatus).Distinct().ToList();
        Assert.True(statuses.Count >= 3, $"a realistic demo shows several outcomes, got {string.Join(", ", statuses)}");
    }

    private ServiceProvider Services()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(fixture.Database.Tenants)
            .AddSingleton(fixture.Database.TenantDirectory)
            .AddSingleton(TimeProvider.System)
            .AddSingleton<IBlobStore>(new FileSystemBlobStore(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })))
            .AddSingleton(new ImportSpools(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })))
            .AddSingleton(GeneratedPersonalDataKeys.Instance)
            .AddSingleton<ImportService>()
            .AddSingleton<InvoiceMatching>();
        services.AddOptions<ServerOptions>().Configure(options => options.DataDirectory = _dataDirectory.Path);
        return services.BuildServiceProvider();
    }

    public void Dispose() => _dataDirectory.Dispose();
}
