using System.Collections.Concurrent;
using System.Diagnostics;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Identity;
using Invisible.Ingestion;
using Invisible.Reconciliation.Documents;
using Invisible.SampleData;
using Invisible.Server.Accounts;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Intake;
using Invisible.Server.Tenancy;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Cli.Benchmarks.Load;

/// <summary>What a simulated user needs of a tenant: who it is, a key to call as, and (busy tenants) what arrives later.</summary>
/// <param name="ApiKey">An approver's key on a clerks' tenant (list, open, approve, re-match); a clerk's on a busy tenant (import, watch).</param>
/// <param name="Emails">Busy tenants: invoices to e-mail during the runs, in order, never imported before.</param>
/// <param name="Files">Busy tenants: invoice files (canonical CSV bytes) to import during the runs, in order.</param>
internal sealed record LoadTenant(Guid Id, string Slug, string ApiKey, bool Busy, IReadOnlyList<Invoice> Emails, IReadOnlyList<byte[]> Files);

/// <summary>
/// Creates the tenants and fills them through the product's own import path (vendors, purchase orders, receipts,
/// invoices as <c>invisible import</c> stores them; each stored file is decided by the worker as on any day), a few
/// tenants at a time, on a product started in this process for that purpose only.
/// </summary>
internal static class LoadProvisioning
{
    public const string SenderDomain = "supplier.load.example";
    private const int Seed = 20261226;

    public static async Task<IReadOnlyList<LoadTenant>> ProvisionAsync(
        InvisibleServer server, LoadSettings settings, int runs, string workDirectory, Action<string> report, CancellationToken cancellationToken)
    {
        var imports = server.Services.GetRequiredService<ImportService>();
        var intake = server.Services.GetRequiredService<IntakeQueries>();
        var emailsPerTenant = (int)Math.Ceiling(settings.EmailsPerSecond * (settings.WarmupSeconds + settings.Seconds) / Math.Max(1, settings.BusyTenantCount)) + 2;
        var filesPerTenant = (settings.WarmupSeconds + settings.Seconds) / settings.ImportIntervalSeconds + 2;
        var tenants = new ConcurrentDictionary<int, LoadTenant>();
        var clock = Stopwatch.StartNew();
        var done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, settings.Tenants), new ParallelOptions { MaxDegreeOfParallelism = settings.ProvisioningParallelism, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var busy = index < settings.BusyTenantCount;
                var slug = busy ? $"load-busy-{index + 1:D3}" : $"load-{index + 1:D3}";
                var reserve = busy ? runs * filesPerTenant * settings.InvoicesPerFile : 0;
                var generated = new TenantDataGenerator(Seed + index).Generate(busy
                    ? new GeneratorOptions { Invoices = settings.Invoices + reserve, PartialReceiptRate = 0, NotYetReceivedRate = 0 }
                    : new GeneratorOptions { Invoices = settings.Invoices }).Snapshot;
                var emails = busy ? ArrivalBenchmark.FiveLineInvoices(generated).Take(runs * emailsPerTenant).ToList() : [];
                var invoices = generated.Invoices.DistinctBy(invoice => (invoice.PrintedVendorName, invoice.InvoiceNumber)).ToList();

                await ActivatorUtilities.CreateInstance<TenantOnboarding>(server.Services)
                    .CreateAsync(slug, $"Load benchmark {index + 1}", "USD", $"admin@{slug}.invisible.local", TenantOnboarding.OperatorActor, token);
                var id = (await server.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, token))!.Id;
                var directory = Path.Combine(workDirectory, "provisioning", slug);
                await CanonicalCsvWriter.WriteAsync(new GeneratedTenant(generated with { Invoices = invoices.Take(settings.Invoices).ToList() }, []), directory, token);
                foreach (var (kind, name) in Files)
                {
                    await using var content = File.OpenRead(Path.Combine(directory, name));
                    var outcome = await imports.ImportAsync(
                        id, new ImportRequest(kind, $"{slug}-{name}", ImportSource.Cli, "benchmark", RequestId: null), content, ImportOptions.Default, null, token);
                    if (outcome.Kind != ImportOutcomeKind.Stored)
                    {
                        throw new InvalidOperationException($"{slug}/{name} was not stored: {outcome.Kind}");
                    }
                }

                var files = new List<byte[]>();
                if (busy)
                {
                    await intake.AddAllowlistEntryAsync(id, "@" + SenderDomain, "benchmark", null, token);
                    var chunk = 0;
                    foreach (var part in invoices.Skip(settings.Invoices).Chunk(settings.InvoicesPerFile))
                    {
                        var chunkDirectory = Path.Combine(directory, $"file-{chunk++}");
                        await CanonicalCsvWriter.WriteAsync(new GeneratedTenant(generated with { Invoices = part }, []), chunkDirectory, token);
                        files.Add(await File.ReadAllBytesAsync(Path.Combine(chunkDirectory, "invoices.csv"), token));
                    }
                }

                Directory.Delete(directory, recursive: true);
                var (_, key) = await LocalOperator.CreateApiKeyAsync(server.Services, slug, "bench load", busy ? Roles.Clerk : Roles.Approver, null, token);
                tenants[index] = new LoadTenant(id, slug, key, busy, emails, files);
                var count = Interlocked.Increment(ref done);
                if (count % Math.Max(1, settings.Tenants / 10) == 0 || count == settings.Tenants)
                {
                    report($"  {count} of {settings.Tenants} tenants provisioned ({clock.Elapsed.TotalSeconds:0} s)");
                }
            });

        return tenants.OrderBy(pair => pair.Key).Select(pair => pair.Value).ToList();
    }

    private static readonly (DocumentKind Kind, string Name)[] Files =
    [
        (DocumentKind.Vendors, "vendors.csv"),
        (DocumentKind.PurchaseOrders, "purchase_orders.csv"),
        (DocumentKind.Receipts, "receipts.csv"),
        (DocumentKind.Invoices, "invoices.csv"),
    ];
}
