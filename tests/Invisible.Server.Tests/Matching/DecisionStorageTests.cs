using Invisible.Server.Tests.FieldEncryption;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using LinqToDB.Data;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Reconciliation.Documents;
using Invisible.Reconciliation.Matching;
using Invisible.SampleData;
using Invisible.Server.Imports;
using Invisible.Server.Matching;
using Invisible.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tests.Matching;

/// <summary>
/// What a run stores, checked against the engine's decisions in memory on a generated tenant (name variants, missing PO
/// references, partial receipts, price drift, duplicates, wrong totals), stored in several chunks.
/// </summary>
public sealed class DecisionStorageTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IDisposable
{
    /// <summary>The serializer options decisions were stored with before <c>DecisionJson</c> wrote them directly.</summary>
    private static readonly JsonSerializerOptions StoredJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly TemporaryDirectory _dataDirectory = new("invisible-decision-storage-");

    private TestDatabase Database => fixture.Database;

    [Fact]
    public async Task A_run_stored_in_chunks_keeps_every_decision_its_evidence_and_what_the_three_way_view_shows()
    {
        var tenant = await GeneratedTenantAsync(invoices: 240);
        ReconciliationResult result;
        Guid runId = Guid.NewGuid();
        var storedAfterEachChunk = new List<int>();
        await using (var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None))
        {
            var decidedAt = await MatchDecisionStore.BeginRunAsync(unitOfWork, CancellationToken.None);
            var prepared = await InvoiceEvaluation.PrepareAsync(unitOfWork, await GeneratedPersonalDataKeys.Instance.DataAsync(CancellationToken.None), EvaluationScope.AllInvoices, CancellationToken.None);
            result = prepared.Appendable(prepared.Decide());
            await MatchDecisionStore.AppendAsync(
                unitOfWork, runId, decidedAt, "engine", InvoiceMatching.EngineVersion, prepared.Tenant, result, chunkSize: 37,
                storedAfterEachChunk.Add, CancellationToken.None);
            await unitOfWork.CommitAsync(CancellationToken.None);
        }

        Assert.True(result.Invoices.Count >= 240, $"{result.Invoices.Count} invoices decided");
        Assert.Equal(
            Enumerable.Range(0, 1 + ((result.Invoices.Count + 36) / 37)).Select(chunk => Math.Min(chunk * 37, result.Invoices.Count)),
            storedAfterEachChunk);
        Assert.Contains(result.Invoices, decision => decision.Status == InvoiceStatus.Duplicate);
        Assert.Contains(result.Invoices, decision => !decision.Totals.AddsUp);
        Assert.Contains(result.Invoices, decision => decision.Lines.Any(line => line.Evidence?.DescriptionSimilarity is not null));

        await using var reader = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        var decisions = (await reader.Db.QueryToListAsync<StoredDecision>(
                """
                select d.id as Id, d.invoice_id as InvoiceId, d.invoice_status as Status, v.vendor_code as VendorCode, p.po_number as PoNumber,
                       p.version as PoVersion, d.duplicate_of as DuplicateOf, t.version as ToleranceVersion, d.explanation::text as Explanation,
                       d.evidence::text as Evidence, i.status as InvoiceRowStatus
                from match_decisions d
                join invoices i on i.id = d.invoice_id
                join tolerances t on t.id = d.tolerance_id
                left join vendors v on v.id = d.vendor_id
                left join purchase_orders p on p.id = d.purchase_order_id
                where d.run_id = @runId
                order by d.id
                """, new { runId }, CancellationToken.None))
            .ToList();
        var lines = (await reader.Db.QueryToListAsync<StoredLine>(
                """
                select ld.id as Id, ld.match_decision_id as DecisionId, il.source_line as SourceLine, ld.line_status as Status, p.po_number as PoNumber,
                       p.version as PoVersion, pl.line_no as PoLineNo, ld.explanation::text as Explanation,
                       t.price_tolerance_percent as PricePercent, t.price_tolerance_absolute as PriceAbsolute,
                       t.quantity_tolerance_percent as QuantityPercent, t.total_tolerance as TotalAbsolute
                from line_decisions ld
                join match_decisions d on d.id = ld.match_decision_id
                join tolerances t on t.id = d.tolerance_id
                join invoice_lines il on il.id = ld.invoice_line_id and il.invoice_id = d.invoice_id
                left join purchase_order_lines pl on pl.id = ld.purchase_order_line_id
                left join purchase_orders p on p.id = pl.purchase_order_id
                where d.run_id = @runId
                order by ld.id
                """, new { runId }, CancellationToken.None))
            .ToList();

        // One decision per invoice, in results order by id (ids rise as they are taken), each as the engine decided it.
        Assert.Equal(result.Invoices.Select(decision => Guid.Parse(decision.InvoiceId)), decisions.Select(decision => decision.InvoiceId));
        Assert.All(decisions.Concat<object>(lines), row => Assert.Equal(7, (row is StoredDecision d ? d.Id : ((StoredLine)row).Id).Version));
        foreach (var (decision, stored) in result.Invoices.Zip(decisions))
        {
            Assert.Equal(
                (decision.Status.ToExportName(), decision.VendorCode, decision.Po.PoNumber, decision.Po.PoNumber is null ? null : decision.Po.PoVersion,
                 decision.DuplicateOfInvoiceId, decision.ToleranceVersion, decision.Status.ToExportName()),
                (stored.Status, stored.VendorCode, stored.PoNumber, stored.PoVersion, stored.DuplicateOf?.ToString(), stored.ToleranceVersion, stored.InvoiceRowStatus));
            AssertSameJson(Serialize(OldInvoiceExplanation(decision)), stored.Explanation);
            AssertSameJson(Serialize(OldInvoiceEvidence(decision)), stored.Evidence);
        }

        // Every line, with its explanation minus only what its decision stores: the PO line (hence number, line and PO
        // version) and the tolerance rule, which the stored references still give back exactly.
        var expectedLines = result.Invoices.Zip(decisions).SelectMany(pair => pair.First.Lines.Select(line => (Decision: pair.Second, Line: line))).ToList();
        Assert.Equal(expectedLines.Count, lines.Count);
        foreach (var ((decision, line), stored) in expectedLines.Zip(lines))
        {
            Assert.Equal(
                (decision.Id, line.SourceLine, line.Status.ToExportName(), line.PoNumber, line.PoLineNo),
                (stored.DecisionId, stored.SourceLine, stored.Status, stored.PoNumber, stored.PoLineNo));
            AssertSameJson(ExpectedLineExplanation(line), stored.Explanation);
            if (line.Evidence is { } evidence)
            {
                Assert.Equal(evidence.PoVersion, stored.PoVersion);
                Assert.Equal(evidence.ToleranceUsed, new ToleranceRule(stored.PricePercent, stored.PriceAbsolute, stored.QuantityPercent, stored.TotalAbsolute));
                Assert.DoesNotContain("toleranceUsed", stored.Explanation, StringComparison.Ordinal);
            }
        }

        // The exception queue and the export follow the run.
        var exceptions = (await reader.Db.QueryToListAsync(
            row => (InvoiceId: row.GetFieldValue<Guid>(0), Reason: row.GetFieldValue<string>(1), DecisionId: row.GetFieldValue<Guid>(2)),
            "select invoice_id, reason, match_decision_id from exceptions where status = 'open' order by invoice_id", CancellationToken.None)).ToList();
        var needReview = result.Invoices.Zip(decisions)
            .Where(pair => MatchDecisionStore.ExceptionReason(pair.First) is not null)
            .Select(pair => (pair.Second.InvoiceId, MatchDecisionStore.ExceptionReason(pair.First)!, pair.Second.Id))
            .OrderBy(entry => entry.InvoiceId)
            .ToList();
        Assert.NotEmpty(needReview);
        Assert.Equal(needReview, exceptions);
        Assert.Equal(ResultsExport.Rows(result), await MatchDecisionStore.LatestResultsAsync(reader, CancellationToken.None));

        // The 3-way view reads the received and cumulative quantities and the variance from the stored line explanations.
        foreach (var decision in result.Invoices.Where(decision => decision.Lines.Any(line => line.Evidence is not null)).Take(25))
        {
            var view = await InvoiceQueries.GetAsync(reader, Guid.Parse(decision.InvoiceId), CancellationToken.None);
            Assert.NotNull(view);
            Assert.Equal(decision.Explanation, view.Explanation);
            foreach (var line in decision.Lines)
            {
                var shown = view.Lines.Single(candidate => candidate.SourceLine == line.SourceLine);
                Assert.Equal(
                    (line.Explanation, line.PoNumber, line.PoLineNo, line.Evidence?.Received, line.Evidence?.CumulativeInvoiced, line.Evidence?.PriceVariancePercent,
                     line.Evidence?.PoUnitPrice, line.Evidence?.Ordered),
                    (shown.Explanation, shown.PoNumber, shown.PoLineNo, shown.ReceivedQuantity, shown.CumulativeInvoiced, shown.PriceVariancePercent,
                     shown.PoUnitPrice, shown.OrderedQuantity));
            }
        }
    }

    [Fact]
    public async Task The_snapshot_knows_the_row_of_every_document_it_loaded()
    {
        var tenant = await GeneratedTenantAsync(invoices: 60);
        await using var unitOfWork = await Database.Tenants.BeginAsync(tenant, CancellationToken.None);
        var loaded = await TenantSnapshotStore.LoadAsync(unitOfWork, await GeneratedPersonalDataKeys.Instance.DataAsync(CancellationToken.None), CancellationToken.None);

        var invoiceLines = (await unitOfWork.Db.QueryToListAsync(
            row => (InvoiceId: row.GetFieldValue<Guid>(0), SourceLine: row.GetFieldValue<int>(1), Id: row.GetFieldValue<Guid>(2)),
            "select invoice_id, source_line, id from invoice_lines", CancellationToken.None)).ToList();
        var poLines = (await unitOfWork.Db.QueryToListAsync(
            row => (PoNumber: row.GetFieldValue<string>(0), Version: row.GetFieldValue<int>(1), PoId: row.GetFieldValue<Guid>(2), LineNo: row.GetFieldValue<int>(3), Id: row.GetFieldValue<Guid>(4)),
            """
            select p.po_number, p.version, p.id, l.line_no, l.id
            from purchase_order_lines l join purchase_orders p on p.id = l.purchase_order_id where p.superseded_at is null
            """, CancellationToken.None)).ToList();
        var vendors = (await unitOfWork.Db.QueryToListAsync(
            row => (Code: row.GetFieldValue<string>(0), Id: row.GetFieldValue<Guid>(1)),
            "select vendor_code, id from vendors", CancellationToken.None)).ToList();

        Assert.Equal(invoiceLines.Count, loaded.Snapshot.Invoices.Sum(invoice => invoice.Lines.Count));
        Assert.All(invoiceLines, row => Assert.Equal(row.Id, loaded.Keys.InvoiceLineId(row.InvoiceId, row.SourceLine)));
        Assert.All(poLines, row =>
        {
            Assert.Equal(row.PoId, loaded.Keys.PurchaseOrderId(row.PoNumber, row.Version));
            Assert.Equal(row.Id, loaded.Keys.PurchaseOrderLineId(row.PoNumber, row.Version, row.LineNo));
        });
        Assert.All(vendors, row => Assert.Equal(row.Id, loaded.Keys.VendorId(row.Code)));
        var po = poLines[0];
        Assert.Null(loaded.Keys.PurchaseOrderId(po.PoNumber, po.Version + 1));
        Assert.Null(loaded.Keys.PurchaseOrderLineId(po.PoNumber, po.Version, 999));
        Assert.Null(loaded.Keys.InvoiceLineId(invoiceLines[0].InvoiceId, 1));
        Assert.Null(loaded.Keys.VendorId("NO-SUCH-VENDOR"));
        Assert.All(loaded.Snapshot.Invoices, invoice => Assert.Equal(invoice.Lines.Select(line => line.SourceLine).Order(), invoice.Lines.Select(line => line.SourceLine)));
        Assert.All(loaded.Snapshot.PurchaseOrders, order => Assert.Equal(order.Lines.Select(line => line.LineNo).Order(), order.Lines.Select(line => line.LineNo)));
    }

    [Fact]
    public void Run_ids_are_version_7_and_rise_in_the_order_they_are_taken()
    {
        var ids = new SequentialUuid();
        var taken = Enumerable.Range(0, 10_000).Select(_ => ids.Next()).ToList();

        Assert.All(taken, id => Assert.Equal(7, id.Version));
        Assert.All(taken, id => Assert.Contains(id.ToString()[19], "89ab"));
        // PostgreSQL orders uuid by its bytes, which is the order of the text form.
        Assert.Equal(taken.Select(id => id.ToString()).Order(StringComparer.Ordinal), taken.Select(id => id.ToString()));
        Assert.Equal(taken.Count, taken.Distinct().Count());
        var later = new SequentialUuid(DateTimeOffset.UtcNow.AddSeconds(1)).Next();
        Assert.True(string.CompareOrdinal(later.ToString(), taken[^1].ToString()) > 0);
    }

    private static string Serialize(object value) => JsonSerializer.Serialize(value, StoredJson);

    private static void AssertSameJson(string expected, string actual)
    {
        using var expectedDocument = JsonDocument.Parse(expected);
        using var actualDocument = JsonDocument.Parse(actual);
        Assert.True(JsonElement.DeepEquals(expectedDocument.RootElement, actualDocument.RootElement), $"expected {expected}\nactual   {actual}");
    }

    // The documents as MatchDecisionStore serialised them before: the decision's are unchanged.
    private static object OldInvoiceExplanation(InvoiceDecision decision) => new
    {
        text = decision.Explanation,
        vendor = decision.Vendor.Explanation,
        po = decision.Po.Explanation,
        totals = decision.Totals.AddsUp
            ? null
            : $"The printed total {decision.Totals.PrintedTotal} differs from the sum of lines and taxes {decision.Totals.SumOfLines} by more than {decision.Totals.Tolerance}.",
    };

    private static object OldInvoiceEvidence(InvoiceDecision decision) => new
    {
        vendor = new { code = decision.VendorCode, score = decision.Vendor.Score, decision.Vendor.Evidence },
        po = new { number = decision.Po.PoNumber, version = decision.Po.PoVersion, identifiedBy = decision.Po.IdentifiedBy, candidates = decision.Po.Candidates },
        totals = new
        {
            printed = decision.Totals.PrintedTotal,
            sumOfLines = decision.Totals.SumOfLines,
            difference = decision.Totals.Difference,
            tolerance = decision.Totals.Tolerance,
            addsUp = decision.Totals.AddsUp,
        },
        duplicateOf = decision.DuplicateOfInvoiceId,
        toleranceVersion = decision.ToleranceVersion,
    };

    /// <summary>The line's old document without the PO line, PO version, tolerance rule and quantity base, and without nulls.</summary>
    private static string ExpectedLineExplanation(LineDecision line)
    {
        var old = JsonNode.Parse(Serialize(new
        {
            text = line.Explanation,
            pairedBy = line.PairedBy,
            poNumber = line.PoNumber,
            poLineNo = line.PoLineNo,
            evidence = line.Evidence,
        }))!.AsObject();
        old.Remove("poNumber");
        old.Remove("poLineNo");
        if (old["evidence"] is JsonObject evidence)
        {
            evidence.Remove("poVersion");
            evidence.Remove("toleranceUsed");
            evidence.Remove("quantityBase");
            if (evidence["descriptionSimilarity"] is null)
            {
                evidence.Remove("descriptionSimilarity");
            }
        }
        else
        {
            old.Remove("evidence");
        }

        return old.ToJsonString();
    }

    /// <summary>A generated tenant imported through the product's importer: the master data, then its invoices.</summary>
    private async Task<Guid> GeneratedTenantAsync(int invoices)
    {
        var generated = new TenantDataGenerator(20260412).Generate(new GeneratorOptions { Invoices = invoices });
        var directory = Path.Combine(_dataDirectory.Path, $"files-{Guid.NewGuid():N}");
        await CanonicalCsvWriter.WriteAsync(generated, directory, CancellationToken.None);
        var tenant = (await Database.CreateTenantAsync()).Id;
        foreach (var (kind, file) in new[]
                 {
                     (DocumentKind.Vendors, "vendors.csv"), (DocumentKind.PurchaseOrders, "purchase_orders.csv"), (DocumentKind.Receipts, "receipts.csv"),
                     (DocumentKind.Invoices, "invoices.csv"),
                 })
        {
            var imports = new ImportService(
                Database.Tenants,
                new FileSystemBlobStore(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
                new ImportSpools(Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path })),
                TimeProvider.System,
                NullLogger<ImportService>.Instance,
                GeneratedPersonalDataKeys.Instance);
            await using var stream = File.OpenRead(Path.Combine(directory, file));
            var outcome = await imports.ImportAsync(
                tenant, new ImportRequest(kind, file, ImportSource.Cli, "tester", null), stream, new ImportOptions(), null, CancellationToken.None);
            Assert.True(outcome.Kind == ImportOutcomeKind.Stored, $"{file}: {string.Join('\n', outcome.Parse.Errors)}");
        }

        return tenant;
    }

    public void Dispose() => _dataDirectory.Dispose();

    private sealed class StoredDecision
    {
        public Guid Id { get; init; }
        public Guid InvoiceId { get; init; }
        public string Status { get; init; } = "";
        public string? VendorCode { get; init; }
        public string? PoNumber { get; init; }
        public int? PoVersion { get; init; }
        public Guid? DuplicateOf { get; init; }
        public int ToleranceVersion { get; init; }
        public string Explanation { get; init; } = "";
        public string Evidence { get; init; } = "";
        public string InvoiceRowStatus { get; init; } = "";
    }

    private sealed class StoredLine
    {
        public Guid Id { get; init; }
        public Guid DecisionId { get; init; }
        public int SourceLine { get; init; }
        public string Status { get; init; } = "";
        public string? PoNumber { get; init; }
        public int? PoVersion { get; init; }
        public int? PoLineNo { get; init; }
        public string Explanation { get; init; } = "";
        public decimal PricePercent { get; init; }
        public decimal? PriceAbsolute { get; init; }
        public decimal QuantityPercent { get; init; }
        public decimal TotalAbsolute { get; init; }
    }
}
