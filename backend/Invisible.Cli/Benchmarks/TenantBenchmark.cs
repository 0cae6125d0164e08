using System.Diagnostics;
using LinqToDB.Data;
using Invisible.Cli.Commands;
using Invisible.Data.Access;
using Invisible.Data.Tenancy;
using Invisible.SampleData;
using Invisible.Server.Audit;
using Invisible.Server.Exceptions;
using Invisible.Server.Hosting;
using Invisible.Server.Matching;
using Invisible.Server.Vendors;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// What a clerk of a big tenant waits for: a tenant of 100,000 generated invoices imported through the product's importer
/// and reconciled once, then every list, detail and dashboard read called through the product's service classes (the code
/// behind the gRPC handlers: a tenant unit of work and its queries), first pages, filters, sorts and a deep keyset page.
/// Baseline, in the same run on the same pool: a primary-key lookup of one invoice in a tenant unit of work, which is
/// what any read costs before its query does anything.
/// </summary>
internal sealed class TenantBenchmark : IBenchmark
{
    private const int Seed = 20261123;
    private const int Invoices = 100_000;
    private const int Calls = 30;
    private const int PageSize = 50;
    private const double TargetMs = 100;

    public string Name => "tenant";

    public string Description => $"every list/detail/dashboard read on a tenant of {Invoices:N0} invoices (p50/p95/p99) against a primary-key lookup";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        context.Report($"generating {Invoices:N0} invoices");
        var generated = new TenantDataGenerator(Seed).Generate(new GeneratorOptions { Invoices = Invoices, WrongHeaderTotalRate = 0 }).Snapshot;
        var snapshot = generated with { Invoices = generated.Invoices.Select(invoice => invoice with { InvoiceTotal = invoice.SumOfLines }).ToList() };
        var dataDirectory = Path.Combine(context.WorkDirectory, "db");
        Directory.CreateDirectory(dataDirectory);
        await using var product = await LocalProduct.OpenAsync(dataDirectory, context.Logging, cancellationToken);
        var tenantId = await MatchBenchmark.CreateTenantAsync(product, "bench-tenant", cancellationToken);
        await MatchBenchmark.ImportAsync(context, product, dataDirectory, tenantId, snapshot, cancellationToken);
        context.Report("reconciling once (not timed)");
        var matching = ReconcileCommand.CreateMatching(product);
        await matching.ReconcileAsync(tenantId, "benchmark", null, cancellationToken);
        await WaitForAutovacuumAsync(context, product, cancellationToken);

        var tenants = product.Services.GetRequiredService<TenantDatabase>();
        var queue = ActivatorUtilities.CreateInstance<ExceptionQueue>(product.Services, TimeProvider.System);
        var vendors = ActivatorUtilities.CreateInstance<VendorDirectoryQueries>(product.Services);
        var audit = ActivatorUtilities.CreateInstance<AuditTrail>(product.Services);
        var imports = ImportCommand.CreateImportService(product, dataDirectory);

        var first = await matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.ImportOrder), null, count: true, PageSize, cancellationToken);
        var invoiceIds = first.Items.Select(item => item.InvoiceId).ToList();
        // The keyset of the row at about four fifths of the list: a deep page as the web app's "next" reaches it.
        var deep = (await matching.SearchInvoicesAsync(tenantId, Search(InvoiceSortBy.ImportOrder), (int)(first.TotalCount * 0.8), 1, cancellationToken)).Items[0];
        var deepByDate = (await matching.SearchInvoicesAsync(tenantId, Search(InvoiceSortBy.InvoiceDate, descending: true), (int)(first.TotalCount * 0.8), 1, cancellationToken)).Items[0];
        var someVendor = first.Items.First(item => item.VendorCode is not null).VendorCode;
        var now = DateTimeOffset.UtcNow;
        ExceptionFilter Queue(string? reason = null, ExceptionOrder order = ExceptionOrder.Oldest, decimal? minAmount = null) =>
            new([], reason, null, null, null, minAmount, null, order, now);
        context.Report($"{first.TotalCount:N0} invoices; timing {Calls} calls of each read");

        var calls = new List<(string Name, Func<int, Task> Call)>
        {
            ("ListInvoices: first page (import order, with count)", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.ImportOrder), null, true, PageSize, cancellationToken)),
            ("ListInvoices: status = exception", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.ImportOrder, status: "exception"), null, true, PageSize, cancellationToken)),
            ("ListInvoices: vendor filter", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.ImportOrder, vendor: someVendor), null, true, PageSize, cancellationToken)),
            ("ListInvoices: search text", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.ImportOrder, query: "INV-00012"), null, true, PageSize, cancellationToken)),
            ("ListInvoices: sort by date desc", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.InvoiceDate, descending: true), null, true, PageSize, cancellationToken)),
            ("ListInvoices: sort by total", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.Total), null, true, PageSize, cancellationToken)),
            ("ListInvoices: sort by vendor", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.Vendor), null, true, PageSize, cancellationToken)),
            ("ListInvoices: sort by number", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.InvoiceNumber), null, true, PageSize, cancellationToken)),
            ("ListInvoices: deep keyset page (80 %)", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.ImportOrder), new InvoiceKeyset("", deep.ImportNo, deep.ImportPosition), false, PageSize, cancellationToken)),
            ("ListInvoices: deep keyset page by date (80 %)", _ => matching.PageInvoicesAsync(tenantId, Search(InvoiceSortBy.InvoiceDate, descending: true),
                new InvoiceKeyset(InvoiceQueries.SortValue(deepByDate, InvoiceSortBy.InvoiceDate), deepByDate.ImportNo, deepByDate.ImportPosition), false, PageSize, cancellationToken)),
            ("GetInvoice", call => matching.GetInvoiceAsync(tenantId, invoiceIds[call % invoiceIds.Count], cancellationToken)),
            ("GetDashboard", _ => matching.DashboardAsync(tenantId, cancellationToken)),
            ("ListExceptions: open, oldest first", _ => queue.ListAsync(tenantId, Queue(), 0, PageSize, cancellationToken)),
            ("ListExceptions: reason price_variance", _ => queue.ListAsync(tenantId, Queue(reason: "price_variance"), 0, PageSize, cancellationToken)),
            ("ListExceptions: amount ≥ 1,000, largest first", _ => queue.ListAsync(tenantId, Queue(order: ExceptionOrder.AmountDescending, minAmount: 1000), 0, PageSize, cancellationToken)),
            ("ListVendors", _ => vendors.ListAsync(tenantId, null, null, PageSize, cancellationToken)),
            ("ListImports", _ => imports.ListAsync(tenantId, null, PageSize, cancellationToken)),
            ("ListAuditEntries", _ => audit.ListAsync(tenantId, new AuditQuery(null, null, null, null, null, null), null, PageSize, cancellationToken)),
        };

        var baseline = await MeasureAsync(async call =>
        {
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            // SQL: the baseline is the cheapest round trip there is, a primary-key probe as plain SQL.
            await unitOfWork.Db.ExecuteAsync<int?>(
                "select 1 from invoices where id = @id", new { id = invoiceIds[call % invoiceIds.Count] }, cancellationToken);
        });
        var figures = new List<BenchmarkFigure>();
        foreach (var (name, call) in calls)
        {
            var timings = await MeasureAsync(call);
            figures.Add(new BenchmarkFigure($"{name}: p50", timings.P50, "ms", baseline.P50));
            figures.Add(new BenchmarkFigure($"{name}: p95", timings.P95, "ms", baseline.P95, $"< {TargetMs} ms", timings.P95 < TargetMs));
            figures.Add(new BenchmarkFigure($"{name}: p99", timings.P99, "ms", baseline.P99));
        }

        return figures;
    }

    private static InvoiceSearch Search(InvoiceSortBy sortBy, bool descending = false, string? status = null, string? vendor = null, string? query = null) =>
        new(status, vendor, query, sortBy, descending);

    /// <summary>Two unmeasured warm-up calls, then <see cref="Calls"/> timed one after another.</summary>
    /// <summary>
    /// A tenant is browsed long after its bulk load, by which time autovacuum has processed it (the embedded cluster looks
    /// every 10 s). The reads are timed in that steady state: this waits, at most three minutes, until autovacuum has run on
    /// the tables the lists read since the load, and says how long that took.
    /// </summary>
    private static async Task WaitForAutovacuumAsync(BenchmarkContext context, LocalProduct product, CancellationToken cancellationToken)
    {
        var loadedAt = DateTimeOffset.UtcNow;
        var waited = Stopwatch.StartNew();
        var dataSource = product.Services.GetRequiredService<Npgsql.NpgsqlDataSource>();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var db = ProductData.On(connection);
            // SQL: reads PostgreSQL's statistics view pg_stat_user_tables, which has no mapping.
            var pending = await db.ExecuteAsync<long>(
                """
                select count(*) from pg_stat_user_tables
                where relname in ('invoices', 'exceptions', 'match_decisions', 'line_decisions')
                  and coalesce(greatest(last_autovacuum, last_vacuum), '-infinity') < @loadedAt
                """, new { loadedAt }, cancellationToken);
            if (pending == 0)
            {
                context.Report($"autovacuum processed the load after {waited.Elapsed.TotalSeconds:0} s");
                return;
            }

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        }

        context.Report("autovacuum had not processed every table after 3 minutes; timing anyway");
    }

    private static async Task<(double P50, double P95, double P99)> MeasureAsync(Func<int, Task> call)
    {
        for (var warmUp = 0; warmUp < 2; warmUp++)
        {
            await call(warmUp);
        }

        var timings = new List<double>(Calls);
        for (var index = 0; index < Calls; index++)
        {
            var start = Stopwatch.GetTimestamp();
            await call(index);
            timings.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        timings.Sort();
        double Percentile(double p) => timings[Math.Max(0, (int)Math.Ceiling(p * timings.Count) - 1)];
        return (Percentile(0.50), Percentile(0.95), Percentile(0.99));
    }
}
