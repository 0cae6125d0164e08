using Invisible.Server.Tests.FieldEncryption;
using System.Text;
using System.Text.RegularExpressions;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.SampleData;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Invisible.Testing;
using LinqToDB.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Matching;

/// <summary>
/// Decided on arrival (the worker side of <see cref="ReevaluateAfterImport"/>) against a real PostgreSQL: deciding after
/// each stored file gives every invoice the decision a full reconcile of the same files gives.
/// </summary>
public sealed partial class DecidedOnArrivalTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private readonly TemporaryDirectory _dataDirectory = new("invisible-arrival-");

    private TestDatabase Database => fixture.Database;

    [Fact]
    public async Task Deciding_each_file_on_arrival_gives_every_invoice_the_decision_a_full_reconcile_gives()
    {
        var (generated, files) = await GeneratedFilesAsync();
        var receipts = SplitRows(files["receipts.csv"], 2, keepTogether: null);
        var invoices = SplitRows(files["invoices.csv"], 3, keepTogether: 0);
        // Later-dated invoices first, receipts half before and half after: arrival order differs from processing order, so
        // only the first invoices (nothing decided before them) continue the tenant's session; the others fall back to
        // re-evaluating the tenant in full.
        (DocumentKind Kind, string Name, string Content)[] arrivals =
        [
            (DocumentKind.Vendors, "vendors.csv", files["vendors.csv"]),
            (DocumentKind.PurchaseOrders, "purchase_orders.csv", files["purchase_orders.csv"]),
            (DocumentKind.Receipts, "receipts-1.csv", receipts[0]),
            (DocumentKind.Invoices, "invoices-3.csv", invoices[2]),
            (DocumentKind.Invoices, "invoices-1.csv", invoices[0]),
            (DocumentKind.Receipts, "receipts-2.csv", receipts[1]),
            (DocumentKind.Invoices, "invoices-2.csv", invoices[1]),
        ];

        var (differences, continued) = await CompareWithReconcileAsync(generated, arrivals);

        Assert.True(differences.Count == 0 && continued == 1, Describe(differences, continued));
    }

    [Fact]
    public async Task Invoices_arriving_in_processing_order_are_decided_by_continuing_the_session_exactly_as_a_full_reconcile()
    {
        var (generated, files) = await GeneratedFilesAsync();
        var receipts = SplitRows(files["receipts.csv"], 2, keepTogether: null);
        // Each file's invoices dated on or after the previous file's: each arrival comes last in processing order.
        var invoices = SplitRows(InDateOrder(files["invoices.csv"]), 4, keepTogether: 0);
        (DocumentKind Kind, string Name, string Content)[] arrivals =
        [
            (DocumentKind.Vendors, "vendors.csv", files["vendors.csv"]),
            (DocumentKind.PurchaseOrders, "purchase_orders.csv", files["purchase_orders.csv"]),
            (DocumentKind.Receipts, "receipts-1.csv", receipts[0]),
            (DocumentKind.Invoices, "invoices-1.csv", invoices[0]),
            (DocumentKind.Invoices, "invoices-2.csv", invoices[1]),
            (DocumentKind.Receipts, "receipts-2.csv", receipts[1]),
            (DocumentKind.Invoices, "invoices-3.csv", invoices[2]),
            (DocumentKind.Invoices, "invoices-4.csv", invoices[3]),
        ];

        var (differences, continued) = await CompareWithReconcileAsync(generated, arrivals);

        Assert.True(differences.Count == 0 && continued == 4, Describe(differences, continued));
    }

    /// <summary>
    /// Imports <paramref name="arrivals"/> into one tenant deciding after each file, and into another reconciled once at
    /// the end; returns how each invoice's newest decision differs and how many arrivals continued a kept session.
    /// </summary>
    private async Task<(List<string> Differences, long Continued)> CompareWithReconcileAsync(
        GeneratedTenant generated, (DocumentKind Kind, string Name, string Content)[] arrivals)
    {
        var sessions = new ArrivalSessions(NullLogger<ArrivalSessions>.Instance);
        var onArrival = (await Database.CreateTenantAsync()).Id;
        foreach (var (kind, name, content) in arrivals)
        {
            await ImportAsync(onArrival, kind, name, content);
            await DecideOnArrivalAsync(onArrival, kind, sessions);
        }

        var reconciled = (await Database.CreateTenantAsync()).Id;
        foreach (var (kind, name, content) in arrivals)
        {
            await ImportAsync(reconciled, kind, name, content);
        }

        await new InvoiceMatching(Database.Tenants, TimeProvider.System, NullLogger<InvoiceMatching>.Instance, GeneratedPersonalDataKeys.Instance)
            .ReconcileAsync(reconciled, "tester", null, CancellationToken.None);

        var expected = await CurrentDecisionsAsync(reconciled);
        var actual = await CurrentDecisionsAsync(onArrival);
        var differences = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal)
            .Where(key => expected.GetValueOrDefault(key) != actual.GetValueOrDefault(key))
            .Select(key => $"{key}:{Environment.NewLine}  reconcile:  {expected.GetValueOrDefault(key) ?? "(none)"}{Environment.NewLine}  on arrival: {actual.GetValueOrDefault(key) ?? "(none)"}")
            .ToList();
        if (expected.Count < generated.Snapshot.Invoices.Count)
        {
            differences.Insert(0, $"only {expected.Count} of {generated.Snapshot.Invoices.Count} invoices were reconciled");
        }

        return (differences, sessions.Continued);
    }

    private static string Describe(List<string> differences, long continued) =>
        $"{continued} arrival(s) continued a kept session; {differences.Count} invoice(s) decided otherwise on arrival:{Environment.NewLine}" +
        string.Join(Environment.NewLine, differences.Take(10));

    /// <summary>Generated data with duplicates, invoices without a PO number and receipts that come after their invoices.</summary>
    private async Task<(GeneratedTenant Generated, Dictionary<string, string> Files)> GeneratedFilesAsync()
    {
        var generated = new TenantDataGenerator(seed: 2112).Generate(new GeneratorOptions
        {
            Invoices = 160,
            DuplicateRate = 0.08,
            MissingPoReferenceRate = 0.25,
            NotYetReceivedRate = 0.15,
            PartialReceiptRate = 0.2,
        });
        return (generated, await FilesAsync(generated));
    }

    /// <summary>
    /// The invoice rows sorted by invoice date, the first ISO date of a row (quoted names may hold commas, so the row is not
    /// split; ISO dates sort as text); the sort is stable, so an invoice's lines stay together, in order.
    /// </summary>
    private static string InDateOrder(string csv)
    {
        var lines = csv.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', [lines[0], .. lines[1..].OrderBy(row => IsoDate().Match(row).Value, StringComparer.Ordinal)]) + "\n";
    }

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}\b")]
    private static partial Regex IsoDate();

    public void Dispose() => _dataDirectory.Dispose();

    private async Task DecideOnArrivalAsync(Guid tenant, DocumentKind kind, ArrivalSessions sessions)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        await ReevaluateAfterImport.DecideAsync(
            unitOfWork, TimeProvider.System, await GeneratedPersonalDataKeys.Instance.DataAsync(CancellationToken.None), "matching.decided_on_arrival", Guid.NewGuid(), kind.ToString(), ReevaluateAfterImport.ArrivalCause,
            CancellationToken.None, sessions);
        await unitOfWork.CommitAsync(CancellationToken.None);
    }

    /// <summary>
    /// Each invoice's newest decision, keyed by file and position: status, vendor, PO, duplicate, and per line its status,
    /// PO line and how it was paired (the explanation's code). Explanation texts are left out: a decision whose outcome
    /// has not changed is not appended again (<see cref="InvoiceEvaluation"/>), so its text may still name the runner-up
    /// PO or the quantity invoiced so far as of its arrival.
    /// </summary>
    private async Task<Dictionary<string, string>> CurrentDecisionsAsync(Guid tenant)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        // One row per invoice over five joins and an aggregate: clearer as SQL than as LINQ.
        var rows = await unitOfWork.Db.QueryToListAsync<DecisionRow>(
            $"""
            {MatchDecisionStore.LatestDecisionsSql}
            select m.file_name || '#' || i.import_position as "Key",
                   concat_ws(' | ', coalesce(d.invoice_status, 'pending'), v.vendor_code, p.po_number,
                             dm.file_name || '#' || di.import_position,
                             (select string_agg(il.source_line || ':' || ld.line_status || ':' || coalesce(pl.line_no::text, '-') || ':' || coalesce(ld.explanation->>'pairedBy', '-'),
                                                ', ' order by il.source_line)
                              from line_decisions ld
                              join invoice_lines il on il.id = ld.invoice_line_id
                              left join purchase_order_lines pl on pl.id = ld.purchase_order_line_id
                              where ld.match_decision_id = d.id)) as "Decision"
            from invoices i
            join imports m on m.id = i.import_id
            left join latest d on d.invoice_id = i.id
            left join vendors v on v.id = d.vendor_id
            left join purchase_orders p on p.id = d.purchase_order_id
            left join invoices di on di.id = d.duplicate_of
            left join imports dm on dm.id = di.import_id
            """);
        return rows.ToDictionary(row => row.Key, row => row.Decision, StringComparer.Ordinal);
    }

    private sealed class DecisionRow
    {
        public string Key { get; set; } = "";
        public string Decision { get; set; } = "";
    }

    private async Task<Dictionary<string, string>> FilesAsync(GeneratedTenant generated)
    {
        var directory = Path.Combine(_dataDirectory.Path, "generated");
        await CanonicalCsvWriter.WriteAsync(generated, directory, CancellationToken.None);
        return Directory.GetFiles(directory, "*.csv").ToDictionary(file => Path.GetFileName(file), File.ReadAllText, StringComparer.Ordinal);
    }

    /// <summary>
    /// The header and rows of a CSV file cut into <paramref name="parts"/> files of about equal size; with
    /// <paramref name="keepTogether"/>, a cut never separates rows with the same value in that column (an invoice's lines).
    /// </summary>
    private static string[] SplitRows(string csv, int parts, int? keepTogether)
    {
        var lines = csv.Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0];
        var rows = lines[1..];
        var cuts = new List<int> { 0 };
        for (var part = 1; part < parts; part++)
        {
            var cut = rows.Length * part / parts;
            while (keepTogether is { } column && cut < rows.Length && cut > 0 && rows[cut].Split(',')[column] == rows[cut - 1].Split(',')[column])
            {
                cut++;
            }

            cuts.Add(cut);
        }

        cuts.Add(rows.Length);
        return [.. Enumerable.Range(0, parts).Select(part => string.Join('\n', [header, .. rows[cuts[part]..cuts[part + 1]]]) + "\n")];
    }

    private async Task ImportAsync(Guid tenant, DocumentKind kind, string name, string content)
    {
        var imports = new ImportService(
            Database.Tenants,
            new FileSystemBlobStore(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
            new ImportSpools(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
            TimeProvider.System,
            NullLogger<ImportService>.Instance,
            GeneratedPersonalDataKeys.Instance);
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var outcome = await imports.ImportAsync(
            tenant, new ImportRequest(kind, name, ImportSource.Cli, "tester", null), stream, new ImportOptions(), null, CancellationToken.None);
        Assert.True(outcome.Kind == ImportOutcomeKind.Stored, string.Join('\n', outcome.Parse.Errors));
    }
}
