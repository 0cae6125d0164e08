using System.Diagnostics;
using Invisible.Cli.Commands;
using Invisible.Data.Diagnostics;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.SampleData;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// Each of the four files of a <c>bench-data</c> tenant (vendors, purchase orders, receipts, invoices) imported end to end
/// by the path <c>invisible import</c> takes (spool, detect, parse, validate, stage, merge, commit), against the floor
/// PostgreSQL itself sets: a raw <c>COPY … FROM STDIN (FORMAT csv)</c> of the same bytes into an unindexed table of the
/// file's columns (all text), on the same connection, in the same run. Also where each import's time went, from the
/// product's own spans (import.stage holds detect and validate; import.merge the set-based statements).
/// </summary>
internal static class IngestPerFile
{
    public const double RatioTarget = 0.2;

    /// <summary>The tenant size; <c>INVISIBLE_BENCH_INGEST_INVOICES</c> sets a smaller one while iterating.</summary>
    public static int Invoices =>
        int.TryParse(Environment.GetEnvironmentVariable("INVISIBLE_BENCH_INGEST_INVOICES"), out var invoices) && invoices > 0 ? invoices : 100_000;

    private static readonly (DocumentKind Kind, string File)[] Files =
    [
        (DocumentKind.Vendors, "vendors.csv"), (DocumentKind.PurchaseOrders, "purchase_orders.csv"),
        (DocumentKind.Receipts, "receipts.csv"), (DocumentKind.Invoices, "invoices.csv"),
    ];

    private static readonly string[] Spans = ["import.copy", "import.stage", "import.merge", "import.commit", "import.statistics"];

    public static async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, int seed, CancellationToken cancellationToken)
    {
        var invoices = Invoices;
        var files = Path.Combine(context.WorkDirectory, "per-file");
        context.Report($"per file: generating a tenant of {invoices:N0} invoices (bench-data)");
        await BenchDataCommand.WriteAsync(new GeneratorOptions { Invoices = invoices }, seed, files, cancellationToken);
        GC.Collect();

        var dataDirectory = Path.Combine(context.WorkDirectory, "per-file-data");
        await using var product = await LocalProduct.OpenAsync(dataDirectory, context.Logging, cancellationToken);
        var tenantId = await IngestBenchmark.CreateTenantAsync(product, "bench-ingest-files", cancellationToken);
        var imports = ImportCommand.CreateImportService(product, dataDirectory);
        var tenants = product.Services.GetRequiredService<TenantDatabase>();
        var figures = new List<BenchmarkFigure>();
        foreach (var (kind, file) in Files)
        {
            var path = Path.Combine(files, file);
            context.Report($"per file: {file} end to end, then raw COPY (format csv) of the same bytes");
            using var spans = new SpanTimer(Spans);
            var clock = Stopwatch.StartNew();
            var outcome = await IngestBenchmark.ImportAsync(imports, tenantId, kind, path, cancellationToken);
            var endToEnd = clock.Elapsed.TotalSeconds;
            if (outcome.Kind != ImportOutcomeKind.Stored)
            {
                throw new InvalidOperationException($"The generated {file} was not stored: {outcome.Kind}, first error: {(outcome.Parse.Errors.Count > 0 ? outcome.Parse.Errors[0] : null)}");
            }

            var rawCopy = await TimeCsvCopyAsync(tenants, tenantId, path, cancellationToken);
            var rows = outcome.Parse.RowCount;
            var stages = string.Join(", ", Spans.Select(span => $"{span["import.".Length..]} {spans.Seconds(span):0.00} s"));
            context.Report($"  {file}: {rows:N0} rows, {endToEnd:0.00} s ({stages}); COPY {rawCopy:0.00} s");
            figures.Add(new BenchmarkFigure(
                $"{file} ({rows:N0} rows) end to end vs COPY csv: rows/s", rows / endToEnd, "rows/s", rows / rawCopy,
                Target: $"≥ {RatioTarget:0.0}× baseline", Met: rawCopy / endToEnd >= RatioTarget));
            figures.Add(new BenchmarkFigure($"  {file} seconds ({stages})", endToEnd, "s", rawCopy));
        }

        return figures;
    }

    /// <summary>
    /// The floor: PostgreSQL parsing the same CSV bytes into an unindexed temporary table with one text column per header
    /// column, on the import's kind of connection (a tenant unit of work), rolled back.
    /// </summary>
    private static async Task<double> TimeCsvCopyAsync(TenantDatabase tenants, Guid tenantId, string path, CancellationToken cancellationToken)
    {
        string header;
        using (var reader = new StreamReader(path))
        {
            header = await reader.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException($"{path} is empty.");
        }

        var columns = header.Split(',').Select((_, index) => $"c{index} text").ToList();
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        // SQL: DDL of the baseline's temporary table has no LINQ form.
        await using (var create = new Npgsql.NpgsqlCommand(
            $"create temp table raw_csv ({string.Join(", ", columns)}) on commit drop", unitOfWork.Connection, unitOfWork.Transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var clock = Stopwatch.StartNew();
        // SQL: the baseline is PostgreSQL's own CSV COPY of the file's bytes.
        await using (var copy = await unitOfWork.Connection.BeginTextImportAsync("copy raw_csv from stdin (format csv, header true)", cancellationToken))
        using (var file = new StreamReader(path))
        {
            var buffer = new char[1 << 16];
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await copy.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Sums the durations of the product's spans of the given names while it is alive.</summary>
    private sealed class SpanTimer : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly Dictionary<string, double> _seconds = new(StringComparer.Ordinal);

        public SpanTimer(IReadOnlyCollection<string> names)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == ProductDiagnostics.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    if (names.Contains(activity.OperationName))
                    {
                        lock (_seconds)
                        {
                            _seconds[activity.OperationName] = _seconds.GetValueOrDefault(activity.OperationName) + activity.Duration.TotalSeconds;
                        }
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public double Seconds(string name)
        {
            lock (_seconds)
            {
                return _seconds.GetValueOrDefault(name);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
