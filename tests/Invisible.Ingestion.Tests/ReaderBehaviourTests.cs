using System.Text;
using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Tests;

public sealed class ReaderBehaviourTests
{
    private const string Receipts = "receipt_number,po_number,po_line_no,received_date,quantity_received\n";

    private static readonly InMemoryReferenceData PurchaseOrderOneLines = new([],
    [
        new PurchaseOrderLineRow(2, "PO-1", "V1", new DateOnly(2026, 1, 1), "EUR", 1, null, "Widgets", 10m, 1m, true),
        new PurchaseOrderLineRow(3, "PO-1", "V1", new DateOnly(2026, 1, 1), "EUR", 2, null, "Gadgets", 10m, 1m, true),
    ]);

    [Fact]
    public async Task Source_lines_count_the_physical_lines_of_quoted_fields_that_span_lines()
    {
        var result = await Import.TextAsync<VendorRow>(
            "vendor_code,name,payment_terms\r\nV1,\"Acme\r\nEurope\",NET30\r\n\r\nV2,Bolt Co,\"NET\n60\"\nV3,Last,NET10\n");

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.Equal([2, 5, 7], result.Rows.Select(r => r.SourceLine));
        Assert.Equal("Acme\r\nEurope", result.Rows[0].Name);
    }

    [Fact]
    public async Task Header_errors_name_the_header_line_after_leading_blank_lines()
    {
        var result = await Import.TextAsync<VendorRow>("\n\n\nvendor_code,country\nV1,DE\n");

        Assert.Equal((4, "name"), (Assert.Single(result.Result.Errors).Line, result.Result.Errors[0].Column));
    }

    [Fact]
    public async Task A_stream_that_cannot_seek_is_spooled_and_read_the_same()
    {
        var bytes = Encoding.UTF8.GetBytes(Receipts + "GR-1,PO-1,1,2026-01-02,5\n");

        var result = await ImportReader.ReadAllAsync<ReceiptRow>(new ForwardOnlyStream(bytes), "upload.csv", ImportOptions.Default,
            PurchaseOrderOneLines, CancellationToken.None);

        Assert.True(result.Result.Accepted, Import.Describe(result.Result));
        Assert.Equal(5m, Assert.Single(result.Rows).QuantityReceived);
    }

    [Fact]
    public async Task Rows_arrive_in_batches_with_progress_while_the_file_is_read()
    {
        var csv = new StringBuilder(Receipts);
        for (var i = 1; i <= 25; i++)
        {
            csv.Append(FormattableString.Invariant($"GR-{i},PO-1,{1 + (i % 2)},2026-01-02,1\n"));
        }

        var batches = new List<int>();
        var progress = new List<ImportProgress>();
        var result = await ImportReader.ReadAsync<ReceiptRow>(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), "r.csv",
            ImportOptions.Default with { BatchSize = 10 }, PurchaseOrderOneLines,
            (batch, _) =>
            {
                batches.Add(batch.Count);
                return ValueTask.CompletedTask;
            },
            new SynchronousProgress(progress.Add), CancellationToken.None);

        Assert.True(result.Accepted, Import.Describe(result));
        Assert.Equal([10, 10, 5], batches);
        Assert.Equal(25, result.RowCount);
        Assert.Contains(progress, p => p.Phase == ImportPhase.Validating && p.RowsProcessed == 10);
        Assert.Equal(ImportPhase.Completed, progress[^1].Phase);
    }

    [Fact]
    public async Task An_unclosed_quote_that_runs_past_the_record_size_limit_is_rejected_naming_its_line()
    {
        var csv = Receipts + "GR-1,PO-1,1,2026-01-02,1\n\"GR-2,PO-1,1,2026-01-02,1\n" + new string('x', 5_000) + "\n";

        var result = await Import.TextAsync<ReceiptRow>(csv, ImportOptions.Default with { MaxRecordBytes = 1_024 }, PurchaseOrderOneLines);

        Assert.False(result.Result.Accepted);
        Assert.Contains(result.Result.Errors, e => e.Line == 3);
        Assert.Empty(result.Rows);
    }

    [Fact]
    public async Task The_lines_of_one_purchase_order_must_agree_on_vendor_currency_and_date()
    {
        var result = await Import.TextAsync<PurchaseOrderLineRow>(
            "po_number,vendor_code,order_date,currency,line_no,description,quantity,unit_price\n" +
            "PO-1,V1,2026-01-01,EUR,1,Bolts,1,1\n" +
            "PO-1,V1,2026-01-02,USD,2,Nuts,1,1\n",
            references: new InMemoryReferenceData([new VendorRow(2, "V1", "Acme", null, null, null, null, null)], []));

        Assert.Equal([(3, "currency"), (3, "order_date")], result.Result.Errors.Select(e => (e.Line, e.Column!)).Order());
    }

    [Fact]
    public async Task A_column_mapping_to_a_column_that_does_not_exist_is_an_error()
    {
        var result = await Import.TextAsync<VendorRow>("Nr,Name\nV1,Acme\n",
            ImportOptions.Default with { ColumnMapping = new Dictionary<string, string> { ["Nr"] = "vendor_number" } });

        Assert.Contains(result.Result.Errors, e => e.Reason.Contains("'vendor_number'", StringComparison.Ordinal));
    }

    /// <summary>An upload being received: it can only be read forwards.</summary>
    private sealed class ForwardOnlyStream(byte[] content) : MemoryStream(content)
    {
        public override bool CanSeek => false;

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }

    /// <summary><see cref="Progress{T}"/> posts to the thread pool; the test wants reports in order, as they happen.</summary>
    private sealed class SynchronousProgress(Action<ImportProgress> report) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => report(value);
    }
}
