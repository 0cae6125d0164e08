using Invisible.Server.FieldEncryption;
using System.Diagnostics;
using Invisible.Cli.Commands;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.SampleData;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// Decided on arrival (<see cref="ReevaluateAfterImport"/>, worker side): the time from a stored 5-line invoice to its
/// decision appended and committed, on a tenant with 10,000 decided invoices, when the worker continues the tenant's kept
/// matching session (<see cref="ArrivalSessions"/>). Baseline, in the same run on the same tenant: re-evaluating the whole
/// tenant for each arrival, which is what deciding on arrival did before. Each invoice is dated after every other one
/// (the common case: it comes last in processing order) and its import is not timed.
/// </summary>
internal sealed class ArrivalBenchmark : IBenchmark
{
    private const int Seed = 20261207;
    private const int DecidedInvoices = 10_000;
    private const int Arrivals = 20;

    public string Name => "arrival";

    public string Description => $"a 5-line invoice decided on arrival on a tenant with {DecidedInvoices:N0} decided invoices, incremental against a full re-evaluation";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        context.Report($"generating and importing {DecidedInvoices:N0} invoices");
        var generated = new TenantDataGenerator(Seed).Generate(new GeneratorOptions { Invoices = DecidedInvoices, WrongHeaderTotalRate = 0 }).Snapshot;
        var snapshot = generated with { Invoices = generated.Invoices.Select(invoice => invoice with { InvoiceTotal = invoice.SumOfLines }).ToList() };
        var dataDirectory = Path.Combine(context.WorkDirectory, "db");
        Directory.CreateDirectory(dataDirectory);
        await using var product = await LocalProduct.OpenAsync(dataDirectory, context.Logging, cancellationToken);
        var tenantId = await MatchBenchmark.CreateTenantAsync(product, "bench-arrival", cancellationToken);
        await MatchBenchmark.ImportAsync(context, product, dataDirectory, tenantId, snapshot, cancellationToken);
        context.Report("reconciling them (not timed)");
        await ReconcileCommand.CreateMatching(product).ReconcileAsync(tenantId, "benchmark", null, null, cancellationToken);

        var arrivals = FiveLineInvoices(snapshot).GetEnumerator();
        var imports = ImportCommand.CreateImportService(product, dataDirectory);
        var tenants = product.Services.GetRequiredService<TenantDatabase>();
        context.Report($"baseline: {Arrivals} arrivals each re-evaluating the tenant");
        var personalData = await product.Services.GetRequiredService<PersonalDataKeys>().DataAsync(cancellationToken);
        var full = await MeasureAsync(context, imports, tenants, personalData, tenantId, arrivals, sessions: null, cancellationToken);
        context.Report($"{Arrivals} arrivals continuing the tenant's kept session (the first one, which keeps it, not counted)");
        var sessions = new ArrivalSessions(NullLogger<ArrivalSessions>.Instance);
        var incremental = await MeasureAsync(context, imports, tenants, personalData, tenantId, arrivals, sessions, cancellationToken);
        if (sessions.Continued != Arrivals)
        {
            throw new InvalidOperationException($"Only {sessions.Continued} of {Arrivals} arrivals continued the kept session.");
        }

        return
        [
            new("arrival of a 5-line invoice decided and committed, p50", Percentile(incremental, 0.5), "ms", Percentile(full, 0.5)),
            new("arrival of a 5-line invoice decided and committed, max", incremental.Max(), "ms", full.Max()),
        ];
    }

    /// <summary>Imports one invoice at a time (not timed), then decides it as the worker does and commits (timed).</summary>
    private static async Task<List<double>> MeasureAsync(
        BenchmarkContext context, ImportService imports, TenantDatabase tenants, Identity.Encryption.PersonalData personalData, Guid tenantId, IEnumerator<Invoice> arrivals,
        ArrivalSessions? sessions, CancellationToken cancellationToken)
    {
        var timings = new List<double>();
        for (var i = sessions is null ? 1 : 0; i <= Arrivals; i++)
        {
            arrivals.MoveNext();
            var invoice = arrivals.Current;
            var directory = Path.Combine(context.WorkDirectory, $"arrival-{invoice.InvoiceNumber}");
            await CanonicalCsvWriter.WriteAsync(
                new GeneratedTenant(new TenantSnapshot([], [], [], [invoice]), []), directory, cancellationToken);
            await using var content = File.OpenRead(Path.Combine(directory, "invoices.csv"));
            var outcome = await imports.ImportAsync(
                tenantId, new ImportRequest(DocumentKind.Invoices, $"{invoice.InvoiceNumber}.csv", ImportSource.Cli, "benchmark", RequestId: null),
                content, ImportOptions.Default, progress: null, cancellationToken);
            if (outcome.Kind != ImportOutcomeKind.Stored)
            {
                throw new InvalidOperationException($"{invoice.InvoiceNumber} was not stored: {outcome.Kind}");
            }

            var start = Stopwatch.GetTimestamp();
            await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
            {
                var decided = await ReevaluateAfterImport.DecideAsync(
                    unitOfWork, TimeProvider.System, personalData, "matching.decided_on_arrival", outcome.Record.Id, "invoices", ReevaluateAfterImport.ArrivalCause,
                    cancellationToken, sessions);
                await unitOfWork.CommitAsync(cancellationToken);
                if (decided.Count == 0)
                {
                    throw new InvalidOperationException($"{invoice.InvoiceNumber} was not decided on its arrival.");
                }
            }

            if (i > 0)
            {
                timings.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }

        return timings;
    }

    /// <summary>Invoices for 5 lines of POs that have them, at the PO's prices, each dated after every invoice before it.</summary>
    internal static IEnumerable<Invoice> FiveLineInvoices(TenantSnapshot snapshot)
    {
        var vendors = snapshot.Vendors.ToDictionary(vendor => vendor.Code, StringComparer.Ordinal);
        var date = snapshot.Invoices.Max(invoice => invoice.InvoiceDate);
        var number = 0;
        foreach (var po in snapshot.PurchaseOrders.Where(po => po.Lines.Count >= 5 && vendors.ContainsKey(po.VendorCode)))
        {
            var vendor = vendors[po.VendorCode];
            var lines = po.Lines.Take(5)
                .Select((line, index) => new InvoiceLine(index + 1, line.Sku, line.Description, 1, line.UnitPrice, line.UnitPrice, 0, index + 2))
                .ToList();
            date = date.AddDays(1);
            number++;
            yield return new Invoice(
                $"arrival-{number}", $"ARR-{number:D4}", vendor.Name, vendor.TaxId, date, po.Currency, po.PoNumber, lines.Sum(line => line.LineAmount),
                new ImportOrigin(0, 2), lines);
        }
    }

    private static double Percentile(List<double> values, double fraction)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Ceiling(fraction * sorted.Count) - 1];
    }
}
