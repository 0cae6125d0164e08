using Invisible.Ingestion.Canonical;
using Invisible.Ingestion.Csv;
using Invisible.Ingestion.EInvoices;
using Invisible.Ingestion.Ubl;
using Invisible.Ingestion.Validation;

namespace Invisible.Ingestion;

/// <summary>
/// Receives the valid rows of a file in batches, in file order, while the file is still being read. The list is reused
/// once the call returns: copy what you keep.
/// </summary>
public delegate ValueTask RowBatchSink<in TRow>(IReadOnlyList<TRow> batch, CancellationToken cancellationToken);

/// <summary>
/// Reads one canonical file (CSV; for invoices also UBL or CII XML, or a Factur-X/ZUGFeRD/XRechnung PDF) into canonical rows, validating everything FORMATS.md
/// section 1 asks. Memory stays flat: the file is read twice (detect, then parse and validate) and rows leave in
/// batches through a sink. A file is accepted whole or rejected whole: when the result is rejected, the caller
/// discards whatever batches it staged.
/// </summary>
public static class ImportReader
{
    public static async Task<ImportParseResult> ReadAsync<TRow>(
        Stream content,
        string fileName,
        ImportOptions options,
        IReferenceData references,
        RowBatchSink<TRow> sink,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken)
        where TRow : class, ICanonicalRow<TRow>
    {
        var (stream, owned) = await SeekableContent.OpenAsync(content, cancellationToken);
        try
        {
            var errors = new ErrorCollector(fileName, options.MaxErrors);
            var scan = await TextEncodingDetector.ScanAsync(stream, options.Encoding, cancellationToken);
            if (TRow.Kind == DocumentKind.Invoices && (EInvoiceReader.LooksLikePdf(stream) || UblInvoiceReader.LooksLikeXml(stream, scan.Encoding)))
            {
                var sinkForInvoices = (RowBatchSink<InvoiceLineRow>)(object)sink;
                return await EInvoiceReader.ReadAsync(stream, scan, fileName, options, sinkForInvoices, errors, cancellationToken);
            }

            var run = new CsvImport<TRow>(stream, scan, fileName, options, references, sink, progress, errors);
            return await run.ExecuteAsync(cancellationToken);
        }
        finally
        {
            if (owned)
            {
                await stream.DisposeAsync();
            }
        }
    }

    /// <summary>Reads a whole file into memory: for small files and tests. The rows are empty when it is rejected.</summary>
    public static async Task<ImportParseResult<TRow>> ReadAllAsync<TRow>(
        Stream content,
        string fileName,
        ImportOptions options,
        IReferenceData references,
        CancellationToken cancellationToken)
        where TRow : class, ICanonicalRow<TRow>
    {
        var rows = new List<TRow>();
        var result = await ReadAsync<TRow>(content, fileName, options, references, (batch, _) =>
        {
            rows.AddRange(batch);
            return ValueTask.CompletedTask;
        }, progress: null, cancellationToken);
        return new ImportParseResult<TRow>(result, result.Accepted ? rows : []);
    }
}
