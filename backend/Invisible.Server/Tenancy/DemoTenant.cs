using System.Text.Json;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.SampleData;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tenancy;

/// <summary>
/// The <c>demo</c> tenant of a local installation, created on the first <c>up</c>. Its administrator's password is kept in
/// <c>DATA_DIR/demo-login.json</c> (owner-only) so that every <c>up</c> can print the sign-in; it is a demo, not a real account.
/// It also gets a few hundred generated invoices with their vendors, purchase orders and receipts, imported and
/// reconciled once, so that the web app has something to show (see <see cref="EnsureDataAsync"/>).
/// </summary>
public static class DemoTenant
{
    public const string Slug = "demo";
    public const string AdminEmail = "admin@demo.invisible.local";

    /// <summary>The demo's generated data: fixed, so every installation shows the same demo.</summary>
    public const int DataSeed = 2026;
    public const int DataInvoices = 300;

    private const string LoginFileName = "demo-login.json";

    public static async Task<TenantAdminLogin> EnsureAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var login = await EnsureTenantAsync(services, cancellationToken);
        var tenant = await services.GetRequiredService<TenantDirectory>().FindBySlugAsync(Slug, cancellationToken)
            ?? throw new InvalidOperationException($"The {Slug} tenant vanished while it was being set up.");
        await EnsureDataAsync(services, tenant.Id, cancellationToken);
        return login;
    }

    /// <summary>
    /// Imports the generated files (vendors, purchase orders, receipts, invoices) and reconciles once, unless the tenant
    /// already has stored invoices. Safe to repeat after a crash half-way: the generator is seeded, so a file that was
    /// already stored is the same content and its import is a no-op; reconciling runs when the invoices are stored.
    /// A file the importer rejects (which would be a defect) is logged and leaves the demo without data rather than
    /// stopping <c>up</c>.
    /// </summary>
    public static async Task EnsureDataAsync(IServiceProvider services, Guid tenantId, CancellationToken cancellationToken)
    {
        var imports = services.GetRequiredService<ImportService>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DemoTenant));
        if (await HasStoredInvoicesAsync(imports, tenantId, cancellationToken))
        {
            return;
        }

        var generated = new TenantDataGenerator(DataSeed).Generate(new GeneratorOptions { Invoices = DataInvoices });
        var directory = Directory.CreateTempSubdirectory("invisible-demo-data-");
        try
        {
            await CanonicalCsvWriter.WriteAsync(generated, directory.FullName, cancellationToken);
            foreach (var (kind, file) in DemoFiles)
            {
                await using var content = File.OpenRead(Path.Combine(directory.FullName, file));
                var outcome = await imports.ImportAsync(
                    tenantId, new ImportRequest(kind, file, ImportSource.Cli, TenantOnboarding.OperatorActor, RequestId: null), content,
                    ImportOptions.Default, progress: null, cancellationToken);
                if (outcome.Kind == ImportOutcomeKind.Rejected)
                {
                    logger.LogError(
                        "The demo tenant's generated {File} was rejected ({ErrorCount} errors, first: {FirstError}); the demo has no data",
                        file, outcome.Parse.TotalErrorCount, outcome.Parse.Errors.Count > 0 ? outcome.Parse.Errors[0] : null);
                    return;
                }
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        var summary = await services.GetRequiredService<InvoiceMatching>()
            .ReconcileAsync(tenantId, TenantOnboarding.OperatorActor, requestId: null, cancellationToken);
        logger.LogInformation("Demo tenant filled with {InvoiceCount} generated invoices and reconciled (run {RunId})", summary.InvoiceCount, summary.RunId);
    }

    private static readonly (DocumentKind Kind, string File)[] DemoFiles =
    [
        (DocumentKind.Vendors, "vendors.csv"),
        (DocumentKind.PurchaseOrders, "purchase_orders.csv"),
        (DocumentKind.Receipts, "receipts.csv"),
        (DocumentKind.Invoices, "invoices.csv"),
    ];

    private static async Task<bool> HasStoredInvoicesAsync(ImportService imports, Guid tenantId, CancellationToken cancellationToken)
    {
        long? before = null;
        while (true)
        {
            var page = await imports.ListAsync(tenantId, before, 100, cancellationToken);
            if (page.Any(record => record.Kind == DocumentKind.Invoices && record.Status == ImportRecordStatus.Stored))
            {
                return true;
            }

            if (page.Count < 100)
            {
                return false;
            }

            before = page[^1].ImportNo;
        }
    }

    private static async Task<TenantAdminLogin> EnsureTenantAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.GetFullPath(services.GetRequiredService<IOptions<ServerOptions>>().Value.DataDirectory);
        var onboarding = ActivatorUtilities.CreateInstance<TenantOnboarding>(services);
        var loginFile = Path.Combine(dataDirectory, LoginFileName);

        var existing = await services.GetRequiredService<TenantDirectory>().FindBySlugAsync(Slug, cancellationToken);
        if (existing is null)
        {
            var created = await onboarding.CreateAsync(Slug, "Demo Company", "USD", AdminEmail, TenantOnboarding.OperatorActor, cancellationToken);
            await SaveAsync(loginFile, created, cancellationToken);
            return created;
        }

        if (File.Exists(loginFile))
        {
            await using var stream = File.OpenRead(loginFile);
            var saved = await JsonSerializer.DeserializeAsync<TenantAdminLogin>(stream, cancellationToken: cancellationToken);
            if (saved is not null)
            {
                return saved;
            }
        }

        var reset = await onboarding.ResetAdminPasswordAsync(existing.Id, Slug, AdminEmail, TenantOnboarding.OperatorActor, cancellationToken);
        await SaveAsync(loginFile, reset, cancellationToken);
        return reset;
    }

    private static async Task SaveAsync(string path, TenantAdminLogin login, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await JsonSerializer.SerializeAsync(stream, login, cancellationToken: cancellationToken);
    }
}
