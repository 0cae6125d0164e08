using Invisible.Server.Tests.FieldEncryption;
using System.Text;
using LinqToDB.Data;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Platform.Events;
using Invisible.Reconciliation.Matching;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Matching;

public sealed class InvoiceMatchingTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    private const string Vendors = """
        vendor_code,name,tax_id
        V1,Acme Supplies Ltd,GB123456789
        """;

    private const string PurchaseOrders = """
        po_number,vendor_code,order_date,currency,line_no,sku,description,quantity,unit_price
        PO-1,V1,2026-01-05,GBP,1,P-A4,Paper A4,10,3.50
        PO-1,V1,2026-01-05,GBP,2,T-26A,Toner 26A,2,80.00
        """;

    private const string Receipts = """
        receipt_number,po_number,po_line_no,received_date,quantity_received
        GR-1,PO-1,1,2026-01-10,10
        GR-1,PO-1,2,2026-01-10,2
        """;

    // INV-1 matches; INV-2 bills toner 10 % dearer (an exception); the copy of INV-1 in the second file is a duplicate.
    private const string Invoices = """
        invoice_number,vendor_name,vendor_tax_id,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,tax_amount,invoice_total
        INV-1,Acme Supplies,GB123456789,2026-01-12,GBP,PO1,1,P-A4,Paper A4,5,3.50,17.50,0,17.50
        INV-2,Acme Supplies,GB123456789,2026-01-13,GBP,po-1,1,T-26A,Toner 26A,1,88.00,88.00,0,88.00
        """;

    private const string InvoicesAgain = """
        invoice_number,vendor_name,vendor_tax_id,invoice_date,currency,po_number,line_no,sku,description,quantity,unit_price,line_amount,tax_amount,invoice_total
        INV 1,Acme Supplies,GB123456789,2026-01-12,GBP,PO1,1,P-A4,Paper A4,5,3.50,17.50,0,17.50
        """;

    private readonly TemporaryDirectory _dataDirectory = new("invisible-matching-");

    private TestDatabase Database => fixture.Database;

    private InvoiceMatching Matching => new(Database.Tenants, TimeProvider.System, NullLogger<InvoiceMatching>.Instance, GeneratedPersonalDataKeys.Instance);

    [Fact]
    public async Task Reconcile_appends_one_decision_per_invoice_and_line_with_explanations_and_export_lists_the_current_results()
    {
        var tenant = await TenantWithDocumentsAsync();

        var summary = await Matching.ReconcileAsync(tenant, "tester", "req-1", CancellationToken.None);
        var csv = await ExportAsync(tenant);

        Assert.Equal(3, summary.InvoiceCount);
        Assert.Equal(1, summary.InvoicesByStatus[InvoiceStatus.Matched]);
        Assert.Equal(1, summary.InvoicesByStatus[InvoiceStatus.Exception]);
        Assert.Equal(1, summary.InvoicesByStatus[InvoiceStatus.Duplicate]);
        Assert.Equal(
            [
                "invoice_number,vendor_code,invoice_status,line_no,line_status,po_number,po_line_no,source_line",
                "INV-1,V1,matched,1,matched,PO-1,1,2",
                "INV-2,V1,exception,1,price_variance,PO-1,2,3",
                "INV 1,V1,duplicate,1,unmatched,,,2",
            ],
            csv);
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        var priceLine = (await unitOfWork.Db.QueryToListAsync(
            row => (Text: row.GetFieldValue<string>(0), PoPrice: row.GetFieldValue<decimal>(1), ToleranceVersion: row.GetFieldValue<int>(2)),
            """
            select ld.explanation->>'text', (ld.explanation->'evidence'->>'poUnitPrice')::numeric, t.version
            from line_decisions ld join match_decisions d on d.id = ld.match_decision_id join tolerances t on t.id = d.tolerance_id
            where ld.line_status = 'price_variance'
            """, CancellationToken.None)).Single();
        Assert.Contains("80", priceLine.Text, StringComparison.Ordinal);
        Assert.Equal((80.00m, 1), (priceLine.PoPrice, priceLine.ToleranceVersion));
    }

    [Fact]
    public async Task A_run_reports_each_stage_in_order_and_the_decisions_stored_up_to_every_invoice()
    {
        var tenant = await TenantWithDocumentsAsync();
        var reports = new List<ReconcileProgress>();

        var summary = await Matching.ReconcileAsync(tenant, "tester", null, new SynchronousProgress<ReconcileProgress>(reports.Add), CancellationToken.None);

        Assert.Equal(
            [
                new ReconcileProgress(ReconcileStage.Loading, 0, 0),
                new ReconcileProgress(ReconcileStage.Matching, 0, 0),
                new ReconcileProgress(ReconcileStage.Storing, 0, 3),
                new ReconcileProgress(ReconcileStage.Storing, 3, 3),
                new ReconcileProgress(ReconcileStage.Committing, 3, 3),
            ],
            reports);
        Assert.Equal(3, summary.InvoiceCount);
    }

    [Fact]
    public async Task Reconciling_again_appends_new_decisions_keeps_the_old_ones_and_refreshes_rather_than_repeats_exceptions()
    {
        var tenant = await TenantWithDocumentsAsync();

        var first = await Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);
        var firstDecisions = await DecisionsOfRunAsync(tenant, first.RunId);
        var second = await Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);

        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        var counts = (await unitOfWork.Db.QueryToListAsync(
            row => (Decisions: row.GetFieldValue<long>(0), Lines: row.GetFieldValue<long>(1), OpenExceptions: row.GetFieldValue<long>(2), Runs: row.GetFieldValue<long>(3)),
            """
            select (select count(*) from match_decisions), (select count(*) from line_decisions),
                   (select count(*) from exceptions where status = 'open'), (select count(distinct run_id) from match_decisions)
            """, CancellationToken.None)).Single();
        Assert.Equal((6L, 6L, 2L, 2L), counts);
        Assert.Equal(firstDecisions, await DecisionsOfRunAsync(tenant, first.RunId));
        var openExceptionDecisionRuns = await unitOfWork.Db.QueryToListAsync(
            row => (Reason: row.GetFieldValue<string>(0), RunId: row.GetFieldValue<Guid>(1)),
            "select e.reason, d.run_id from exceptions e join match_decisions d on d.id = e.match_decision_id order by e.reason", CancellationToken.None);
        Assert.Equal([("duplicate", second.RunId), ("price_variance", second.RunId)], openExceptionDecisionRuns);
        var audit = await unitOfWork.Db.QueryToListAsync<string>(
            "select entity_id from audit_log where action = 'matching.reconciled' order by seq", CancellationToken.None);
        Assert.Equal([first.RunId.ToString(), second.RunId.ToString()], audit);
        var events = await unitOfWork.Db.QueryToListAsync<string>(
            "select payload->>'runId' from outbox where topic = @topic order by position", new { topic = EventTopics.Of<InvoicesReconciled>() }, CancellationToken.None);
        Assert.Equal([first.RunId.ToString(), second.RunId.ToString()], events);
    }

    [Fact]
    public async Task Concurrent_runs_of_one_tenant_take_turns_so_the_current_decisions_are_those_of_the_run_that_committed_last()
    {
        var tenant = await TenantWithDocumentsAsync();

        var runs = await Task.WhenAll(
            Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None),
            Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None));

        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        var committedLast = (await unitOfWork.Db.QueryToListAsync<string>(
            "select entity_id from audit_log where action = 'matching.reconciled' order by seq desc limit 1", CancellationToken.None)).Single();
        var currentRuns = await unitOfWork.Db.QueryToListAsync<Guid>(
            """
            select distinct run_id from (select distinct on (invoice_id) run_id from match_decisions order by invoice_id, decided_at desc) latest
            """, CancellationToken.None);
        Assert.Equal(2, runs.Select(run => run.RunId).Distinct().Count());
        Assert.Equal([Guid.Parse(committedLast)], currentRuns);
    }

    [Fact]
    public async Task Invoices_awaiting_receipt_are_not_exceptions_and_the_next_run_after_the_receipt_matches_them()
    {
        var tenant = (await Database.CreateTenantAsync()).Id;
        await ImportAsync(tenant, DocumentKind.Vendors, Vendors);
        await ImportAsync(tenant, DocumentKind.PurchaseOrders, PurchaseOrders);
        await ImportAsync(tenant, DocumentKind.Invoices, Invoices);

        var before = await Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);
        await ImportAsync(tenant, DocumentKind.Receipts, Receipts);
        var after = await Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);

        Assert.Equal([InvoiceStatus.AwaitingReceipt], before.InvoicesByStatus.Keys);
        Assert.Equal(2, before.InvoicesByStatus[InvoiceStatus.AwaitingReceipt]);
        Assert.Equal((1, 1), (after.InvoicesByStatus[InvoiceStatus.Matched], after.InvoicesByStatus[InvoiceStatus.Exception]));
        Assert.Contains("INV-1,V1,matched,1,matched,PO-1,1,2", await ExportAsync(tenant));
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        var exceptions = await unitOfWork.Db.QueryToListAsync(
            row => (Reason: row.GetFieldValue<string>(0), RunId: row.GetFieldValue<Guid>(1)),
            "select e.reason, d.run_id from exceptions e join match_decisions d on d.id = e.match_decision_id", CancellationToken.None);
        Assert.Equal([("price_variance", after.RunId)], exceptions);
    }

    [Fact]
    public async Task A_tenant_reconciles_and_exports_only_its_own_invoices()
    {
        var a = await TenantWithDocumentsAsync();
        var b = (await Database.CreateTenantAsync()).Id;

        await Matching.ReconcileAsync(a, "tester", null, CancellationToken.None);
        var ofB = await Matching.ReconcileAsync(b, "tester", null, CancellationToken.None);

        Assert.Equal(0, ofB.InvoiceCount);
        Assert.Equal(["invoice_number,vendor_code,invoice_status,line_no,line_status,po_number,po_line_no,source_line"], await ExportAsync(b));
        Assert.Empty(await Matching.ListInvoicesAsync(b, null, null, 50, CancellationToken.None));
        var invoiceOfA = (await Matching.ListInvoicesAsync(a, "exception", null, 50, CancellationToken.None)).Single();
        Assert.Null(await Matching.GetInvoiceAsync(b, invoiceOfA.InvoiceId, CancellationToken.None));
        var view = await Matching.GetInvoiceAsync(a, invoiceOfA.InvoiceId, CancellationToken.None);
        var line = Assert.Single(view!.Lines);
        Assert.Equal(("PO-1", 2, 2m, 1m, 80.00m, 88.00m), (line.PoNumber, line.PoLineNo, line.ReceivedQuantity, line.CumulativeInvoiced, line.PoUnitPrice, line.UnitPrice));
    }

    [Fact]
    public async Task Invoices_page_in_import_order_and_filter_by_status()
    {
        var tenant = await TenantWithDocumentsAsync();
        var pendingBeforeReconcile = await Matching.ListInvoicesAsync(tenant, "pending", null, 50, CancellationToken.None);
        await Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);

        var firstPage = await Matching.ListInvoicesAsync(tenant, null, null, 2, CancellationToken.None);
        var last = firstPage[^1];
        var secondPage = await Matching.ListInvoicesAsync(tenant, null, new InvoicePosition(last.ImportNo, last.ImportPosition), 2, CancellationToken.None);

        Assert.Equal(3, pendingBeforeReconcile.Count);
        Assert.Equal(["INV-1", "INV-2", "INV 1"], firstPage.Concat(secondPage).Select(invoice => invoice.InvoiceNumber));
        Assert.Equal(["matched", "exception", "duplicate"], firstPage.Concat(secondPage).Select(invoice => invoice.Status));
        Assert.Equal("INV 1", (await Matching.ListInvoicesAsync(tenant, "duplicate", null, 50, CancellationToken.None)).Single().InvoiceNumber);
    }

    [Fact]
    public async Task Keyset_pages_return_the_rows_of_offset_pages_in_every_sort_without_duplicates_or_gaps()
    {
        var tenant = await TenantWithDocumentsAsync();
        await Matching.ReconcileAsync(tenant, "tester", null, CancellationToken.None);

        foreach (var sortBy in Enum.GetValues<InvoiceSortBy>())
        {
            foreach (var descending in new[] { false, true })
            {
                var search = new InvoiceSearch(null, null, null, sortBy, descending);
                var byOffset = (await Matching.SearchInvoicesAsync(tenant, search, 0, 50, CancellationToken.None)).Items.Select(item => item.InvoiceId).ToList();
                var byKeyset = new List<Guid>();
                InvoiceKeyset? after = null;
                for (var page = 0; page < 10; page++)
                {
                    var (items, hasMore, total) = await Matching.PageInvoicesAsync(tenant, search, after, count: page == 0, 1, CancellationToken.None);
                    byKeyset.AddRange(items.Select(item => item.InvoiceId));
                    if (page == 0)
                    {
                        Assert.Equal(3, total);
                    }

                    if (!hasMore)
                    {
                        break;
                    }

                    after = new InvoiceKeyset(InvoiceQueries.SortValue(items[^1], sortBy), items[^1].ImportNo, items[^1].ImportPosition);
                }

                Assert.Equal(3, byOffset.Count);
                Assert.True(byOffset.SequenceEqual(byKeyset), $"{sortBy} {(descending ? "descending" : "ascending")}");
            }
        }
    }

    [Fact]
    public async Task An_import_leaves_its_tables_analysed()
    {
        await using var owner = new Npgsql.NpgsqlConnection(Database.OwnerConnectionString);
        await owner.OpenAsync();
        var before = await owner.Linq().ExecuteAsync<DateTime>("select now()", CancellationToken.None);

        await TenantWithDocumentsAsync();

        // A new connection: statistics a session has read are cached until its transaction ends.
        await using var reader = new Npgsql.NpgsqlConnection(Database.OwnerConnectionString);
        await reader.OpenAsync();
        var analysed = (await reader.Linq().QueryToListAsync<string>(
            "select relname from pg_stat_user_tables where relname = any(@tables) and last_analyze >= @before", new { tables = new[] { "imports", "invoices", "invoice_lines", "vendors", "purchase_orders", "receipts" }, before }, CancellationToken.None)).ToHashSet();
        Assert.Equal(["imports", "invoice_lines", "invoices", "purchase_orders", "receipts", "vendors"], analysed.Order());
    }

    private async Task<Guid> TenantWithDocumentsAsync()
    {
        var tenant = (await Database.CreateTenantAsync()).Id;
        await ImportAsync(tenant, DocumentKind.Vendors, Vendors);
        await ImportAsync(tenant, DocumentKind.PurchaseOrders, PurchaseOrders);
        await ImportAsync(tenant, DocumentKind.Receipts, Receipts);
        await ImportAsync(tenant, DocumentKind.Invoices, Invoices);
        await ImportAsync(tenant, DocumentKind.Invoices, InvoicesAgain);
        return tenant;
    }

    private async Task ImportAsync(Guid tenant, DocumentKind kind, string content)
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
            tenant, new ImportRequest(kind, $"{kind}.csv", ImportSource.Cli, "tester", null), stream, new ImportOptions(), null, CancellationToken.None);
        Assert.True(outcome.Kind == ImportOutcomeKind.Stored, string.Join('\n', outcome.Parse.Errors));
    }

    private async Task<string[]> ExportAsync(Guid tenant)
    {
        using var buffer = new MemoryStream();
        await Matching.ExportResultsAsync(tenant, buffer, CancellationToken.None);
        return Encoding.UTF8.GetString(buffer.ToArray()).Split(["\r\n", "\n"], StringSplitOptions.RemoveEmptyEntries);
    }

    private async Task<string> DecisionsOfRunAsync(Guid tenant, Guid runId)
    {
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<string>(
            """
            select json_agg(x order by x.id)::text from (
                select d.id, d.invoice_status, d.decided_at, d.explanation, d.evidence,
                       (select json_agg(l order by l.id) from line_decisions l where l.match_decision_id = d.id) as lines
                from match_decisions d where d.run_id = @runId) x
            """, new { runId }, CancellationToken.None) ?? "";
    }

    public void Dispose() => _dataDirectory.Dispose();
}
