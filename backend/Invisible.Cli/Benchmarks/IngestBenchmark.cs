using System.Diagnostics;
using Invisible.Cli.Commands;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Ingestion.Canonical;
using Invisible.SampleData;
using Invisible.Server.Hosting;
using Invisible.Server.Imports;
using Invisible.Server.Tenancy;
using Microsoft.Extensions.DependencyInjection;
using NpgsqlTypes;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// About a million generated invoice lines imported end to end (detect, parse, validate, binary COPY into staging,
/// set-based merge, commit) against the floor: a raw binary COPY of the same, already parsed rows into a table shaped
/// like invoice_lines, in the same run on the same database. (Not into invoice_lines itself: PostgreSQL refuses COPY FROM
/// into a table with row-level security, which is why imports stage in a temporary table in the first place.) Also the process's peak managed memory during the import, which must stay
/// flat whatever the file size.
/// </summary>
internal sealed class IngestBenchmark : IBenchmark
{
    // The generator writes about 2.7 lines per invoice: 380,000 invoices give a little over 1,000,000 lines.
    private const int Invoices = 380_000;
    private const int Seed = 7;
    private const long ManagedMemoryTargetBytes = 400L << 20;
    private const double RatioTarget = 0.5;

    public string Name => "ingest";

    public string Description =>
        $"each file of a {IngestPerFile.Invoices:N0}-invoice tenant end to end vs COPY (format csv) of the same file; then " +
        "~1,000,000 generated invoice lines: end-to-end import vs raw binary COPY of the same rows; peak memory";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        var perFile = await IngestPerFile.RunAsync(context, Seed, cancellationToken);
        if (Environment.GetEnvironmentVariable("INVISIBLE_BENCH_INGEST_INVOICES") is { Length: > 0 })
        {
            // Iterating on a smaller tenant: the million-line run is left out.
            return perFile;
        }

        return [.. perFile, .. await RunMillionLinesAsync(context, cancellationToken)];
    }

    private static async Task<IReadOnlyList<BenchmarkFigure>> RunMillionLinesAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        var files = Path.Combine(context.WorkDirectory, "files");
        context.Report($"generating {Invoices:N0} invoices with their vendors, purchase orders and receipts");
        await WriteFilesAsync(files, cancellationToken);
        GC.Collect();

        var dataDirectory = Path.Combine(context.WorkDirectory, "data");
        await using var product = await LocalProduct.OpenAsync(dataDirectory, context.Logging, cancellationToken);
        var tenantId = await CreateTenantAsync(product, "bench-ingest", cancellationToken);
        var imports = ImportCommand.CreateImportService(product, dataDirectory);
        foreach (var (kind, file) in new[] { (DocumentKind.Vendors, "vendors.csv"), (DocumentKind.PurchaseOrders, "purchase_orders.csv"), (DocumentKind.Receipts, "receipts.csv") })
        {
            context.Report($"importing {file} (not timed)");
            await ImportAsync(imports, tenantId, kind, Path.Combine(files, file), cancellationToken);
        }

        context.Report("importing invoices.csv end to end (timed)");
        GC.Collect();
        using var memory = new PeakMemorySampler();
        var clock = Stopwatch.StartNew();
        var outcome = await ImportAsync(imports, tenantId, DocumentKind.Invoices, Path.Combine(files, "invoices.csv"), cancellationToken);
        var endToEnd = clock.Elapsed.TotalSeconds;
        var peakManaged = memory.Stop();
        if (outcome.Kind != ImportOutcomeKind.Stored)
        {
            throw new InvalidOperationException($"The generated invoices were not stored: {outcome.Kind}, first error: {(outcome.Parse.Errors.Count > 0 ? outcome.Parse.Errors[0] : null)}");
        }

        context.Report("raw binary COPY of the same rows into a copy of invoice_lines (timed, rolled back)");
        clock.Restart();
        IReadOnlyList<InvoiceLineRow> rows;
        await using (var content = File.OpenRead(Path.Combine(files, "invoices.csv")))
        {
            rows = (await ImportReader.ReadAllAsync<InvoiceLineRow>(content, "invoices.csv", ImportOptions.Default, InMemoryReferenceData.Empty, cancellationToken)).Rows;
        }

        var parseOnly = clock.Elapsed.TotalSeconds;
        var rawCopy = await TimeRawCopyAsync(product.Services.GetRequiredService<TenantDatabase>(), tenantId, outcome.Record.Id, rows, cancellationToken);

        var lines = outcome.Parse.RowCount;
        return
        [
            new BenchmarkFigure(
                $"~1M invoice lines imported end to end ({lines:N0}) vs binary COPY of parsed rows", lines / endToEnd, "lines/s", lines / rawCopy,
                Target: $"≥ {RatioTarget:0.0}× baseline", Met: rawCopy / endToEnd >= RatioTarget),
            new BenchmarkFigure("end-to-end import time", endToEnd, "s", rawCopy),
            new BenchmarkFigure("of which detect + parse + validate (timed alone, rows kept in memory)", parseOnly, "s", rawCopy),
            new BenchmarkFigure(
                "peak managed memory during the import", peakManaged / 1048576.0, "MB",
                Target: $"< {ManagedMemoryTargetBytes >> 20} MB", Met: peakManaged < ManagedMemoryTargetBytes),
        ];
    }

    /// <summary>The files exactly as <c>invisible bench-data</c> writes them, re-sent duplicates and wrong header totals included.</summary>
    private static Task WriteFilesAsync(string directory, CancellationToken cancellationToken) =>
        BenchDataCommand.WriteAsync(new GeneratorOptions { Invoices = Invoices }, Seed, directory, cancellationToken);

    internal static async Task<Guid> CreateTenantAsync(LocalProduct product, string slug, CancellationToken cancellationToken)
    {
        await ActivatorUtilities.CreateInstance<TenantOnboarding>(product.Services)
            .CreateAsync(slug, "Ingest benchmark", "USD", $"admin@{slug}.invisible.local", TenantOnboarding.OperatorActor, cancellationToken);
        return (await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync(slug, cancellationToken))!.Id;
    }

    internal static async Task<ImportOutcome> ImportAsync(ImportService imports, Guid tenantId, DocumentKind kind, string path, CancellationToken cancellationToken)
    {
        await using var content = File.OpenRead(path);
        return await imports.ImportAsync(
            tenantId, new ImportRequest(kind, Path.GetFileName(path), ImportSource.Cli, "benchmark", RequestId: null), content, ImportOptions.Default,
            progress: null, cancellationToken);
    }

    /// <summary>The floor: the rows go straight into a table like invoice_lines, attached to the invoices the import created.</summary>
    private static async Task<double> TimeRawCopyAsync(
        TenantDatabase tenants, Guid tenantId, Guid importId, IReadOnlyList<InvoiceLineRow> rows, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var invoiceIds = new Dictionary<int, Guid>();
        // SQL: the raw baseline reads on Npgsql directly, without the product's data layer it is compared with.
        await using (var command = new Npgsql.NpgsqlCommand(
            "select import_position, id from invoices where import_id = @importId", unitOfWork.Connection, unitOfWork.Transaction))
        {
            command.Parameters.AddWithValue("importId", importId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                invoiceIds[reader.GetInt32(0)] = reader.GetGuid(1);
            }
        }

        // SQL: a temporary table shaped like invoice_lines (create ... like), DDL with no LINQ form.
        await using (var create = new Npgsql.NpgsqlCommand(
            "create temp table raw_invoice_lines (like invoice_lines including defaults including constraints including indexes) on commit drop",
            unitOfWork.Connection, unitOfWork.Transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var clock = Stopwatch.StartNew();
        // SQL: the baseline is a plain binary COPY on Npgsql.
        await using (var importer = await unitOfWork.Connection.BeginBinaryImportAsync(
            "copy raw_invoice_lines (tenant_id, invoice_id, line_no, sku, description, quantity, unit_price, line_amount, tax_amount, source_line) from stdin (format binary)",
            cancellationToken))
        {
            foreach (var row in rows)
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(tenantId, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(invoiceIds[row.InvoicePosition], NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(row.LineNo, NpgsqlDbType.Integer, cancellationToken);
                await (row.Sku is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(row.Sku, NpgsqlDbType.Text, cancellationToken));
                await importer.WriteAsync(row.Description, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(row.Quantity, NpgsqlDbType.Numeric, cancellationToken);
                await importer.WriteAsync(row.UnitPrice, NpgsqlDbType.Numeric, cancellationToken);
                await importer.WriteAsync(row.LineAmount, NpgsqlDbType.Numeric, cancellationToken);
                await importer.WriteAsync(row.TaxAmount, NpgsqlDbType.Numeric, cancellationToken);
                await importer.WriteAsync(row.SourceLine, NpgsqlDbType.Integer, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Samples the managed heap while the import runs (the process's peak working set would include the generator).</summary>
    private sealed class PeakMemorySampler : IDisposable
    {
        private readonly Timer _timer;
        private long _peak;

        public PeakMemorySampler() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));

        public long Stop()
        {
            _timer.Change(Timeout.Infinite, Timeout.Infinite);
            Sample();
            return Interlocked.Read(ref _peak);
        }

        private void Sample()
        {
            var current = GC.GetTotalMemory(forceFullCollection: false);
            long seen;
            do
            {
                seen = Interlocked.Read(ref _peak);
            }
            while (current > seen && Interlocked.CompareExchange(ref _peak, current, seen) != seen);
        }

        public void Dispose() => _timer.Dispose();
    }
}
