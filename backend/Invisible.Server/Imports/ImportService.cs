using System.Buffers;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Ingestion.Validation;
using Invisible.Platform.Blobs;
using Invisible.Platform.Events;

namespace Invisible.Server.Imports;

/// <summary>
/// Imports one file for one tenant: the single code path behind the gRPC upload and <c>invisible import</c>. The rows,
/// the import record, its audit entry and the <see cref="FileImported"/> event commit together; a rejected file leaves
/// its record, its errors and a downloadable error CSV. The file itself (stored or rejected) is kept in the blob store,
/// referenced from its import record. The tenant's saved column mapping for the kind of file applies unless the request
/// maps a header itself.
/// </summary>
public sealed class ImportService(TenantDatabase tenants, IBlobStore blobs, TimeProvider time, ILogger<ImportService> logger)
{
    /// <summary>Files are kept in chunks of this size, so that keeping a large file costs no more memory than one chunk.</summary>
    public const int FileChunkBytes = 4 << 20;

    public async Task<ImportOutcome> ImportAsync(
        Guid tenantId,
        ImportRequest request,
        Stream content,
        ImportOptions options,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken)
    {
        // The file is read again to keep it, so it must be seekable; an upload stream is spooled to a temporary file first.
        await using var spooled = content.CanSeek ? null : await SpoolAsync(content, cancellationToken);
        content = spooled ?? content;
        var start = content.Position;

        // A file on disk is kept from a second handle while it is imported (the copy costs no extra time); another stream
        // is kept afterwards. Kept before the commit, like the error CSV: a record never points at a file not written.
        var prefix = KeptFiles.NewPrefix(tenantId, time.GetUtcNow());
        await using var secondReader = OpenSecondReader(content, start);
        var keeping = secondReader is null ? null : KeepFileAsync(prefix, secondReader, cancellationToken);
        ImportOutcome outcome;
        try
        {
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            options = await WithSavedColumnMappingAsync(unitOfWork, request.Kind, options, cancellationToken);
            outcome = await ImportStore.StoreAsync(unitOfWork, request, content, options, progress, cancellationToken);
            if (keeping is not null)
            {
                await keeping;
            }

            if (outcome.Kind == ImportOutcomeKind.Duplicate)
            {
                // The earlier import kept this very content already.
                await DeleteKeptFileAsync(prefix, cancellationToken);
            }
            else
            {
                if (keeping is null)
                {
                    content.Position = start;
                    await KeepFileAsync(prefix, content, cancellationToken);
                }

                await ImportHistory.SetContentBlobAsync(unitOfWork, outcome.Record.Id, prefix, cancellationToken);
                outcome = outcome with { Record = outcome.Record with { ContentBlob = prefix } };
            }

            await FinishAsync(unitOfWork, tenantId, outcome, cancellationToken);
        }
        catch
        {
            await ForgetKeptFileAsync(keeping, prefix);
            throw;
        }

        logger.LogInformation(
            "Import {ImportId} of {Kind} file {FileName} for tenant {TenantId}: {Outcome}, {RowCount} rows, {StoredCount} stored, {ErrorCount} errors",
            outcome.Record.Id, request.Kind, request.FileName, tenantId, outcome.Kind, outcome.Parse.RowCount, outcome.Merge.Stored,
            outcome.Parse.TotalErrorCount);
        return outcome;
    }

    /// <summary>Publishes the event of a stored file or writes the error CSV of a rejected one, then commits.</summary>
    private async Task FinishAsync(TenantUnitOfWork unitOfWork, Guid tenantId, ImportOutcome outcome, CancellationToken cancellationToken)
    {
        switch (outcome.Kind)
        {
            case ImportOutcomeKind.Stored:
                await EventOutbox.EnqueueAsync(unitOfWork, new FileImported(
                    Guid.NewGuid(), tenantId, time.GetUtcNow(), outcome.Record.Id, outcome.Record.ImportNo,
                    ImportNames.Of(outcome.Record.Kind), outcome.Record.RowCount, outcome.Record.StoredCount), cancellationToken);
                break;
            case ImportOutcomeKind.Rejected:
                // Written before the commit: a failed write leaves no record promising a download that does not exist.
                await blobs.PutAsync(ErrorCsvBlobName(tenantId, outcome.Record.Id), await ErrorCsvAsync(outcome.Parse, cancellationToken), cancellationToken);
                break;
        }

        await unitOfWork.CommitAsync(cancellationToken);
    }

    public async Task<ImportRecord?> FindAsync(Guid tenantId, Guid importId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await ImportHistory.FindAsync(unitOfWork, importId, cancellationToken);
    }

    /// <summary>The tenant's imports, newest first; pass the last <see cref="ImportRecord.ImportNo"/> of a page to get the next.</summary>
    public async Task<IReadOnlyList<ImportRecord>> ListAsync(Guid tenantId, long? beforeImportNo, int pageSize, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await ImportHistory.ListAsync(unitOfWork, beforeImportNo, pageSize, cancellationToken);
    }

    public async Task<IReadOnlyList<ImportErrorRecord>> ListErrorsAsync(Guid tenantId, Guid importId, int limit, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await ImportHistory.ListErrorsAsync(unitOfWork, importId, limit, cancellationToken);
    }

    /// <summary>The error CSV of a rejected import of this tenant; null when the import does not exist here or was not rejected.</summary>
    public async Task<byte[]?> GetErrorCsvAsync(Guid tenantId, Guid importId, CancellationToken cancellationToken)
    {
        // The record is read under row-level security first, so a guessed id of another tenant's import finds nothing.
        var record = await FindAsync(tenantId, importId, cancellationToken);
        return record?.Status == ImportRecordStatus.Rejected
            ? await blobs.GetAsync(ErrorCsvBlobName(tenantId, importId), cancellationToken)
            : null;
    }

    /// <summary>
    /// Writes the kept file of an import of this tenant to <paramref name="destination"/>; false when the import does not
    /// exist here or its file was not kept (imports from before files were kept, and duplicates, which keep none).
    /// </summary>
    public async Task<bool> CopyFileAsync(Guid tenantId, Guid importId, Stream destination, CancellationToken cancellationToken)
    {
        // Read under row-level security first, so that a guessed id of another tenant's import finds nothing.
        if (await FindAsync(tenantId, importId, cancellationToken) is not { ContentBlob: { } prefix })
        {
            return false;
        }

        foreach (var chunk in await blobs.ListAsync(prefix, cancellationToken))
        {
            var data = await blobs.GetAsync(chunk, cancellationToken)
                ?? throw new InvalidOperationException($"A chunk of the kept file of import {importId} vanished: {chunk}.");
            await destination.WriteAsync(data, cancellationToken);
        }

        return true;
    }

    /// <summary>The tenant's saved column mapping for a kind of file (normalised header → canonical column).</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetColumnMappingAsync(Guid tenantId, DocumentKind kind, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await ColumnMappingStore.GetAsync(unitOfWork, kind, cancellationToken);
    }

    /// <summary>
    /// Replaces the tenant's saved column mapping for a kind of file; later imports of that kind use it. Returns the
    /// problems instead when the mapping is not valid (nothing is saved then).
    /// </summary>
    public async Task<(IReadOnlyDictionary<string, string>? Saved, IReadOnlyList<string> Problems)> SaveColumnMappingAsync(
        Guid tenantId, DocumentKind kind, IEnumerable<KeyValuePair<string, string>> entries, string actor, string? requestId,
        CancellationToken cancellationToken)
    {
        var (mapping, problems) = ColumnMapping.Validate(kind, entries);
        if (mapping is null)
        {
            return (null, problems);
        }

        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        await ColumnMappingStore.ReplaceAsync(unitOfWork, kind, mapping, actor, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return (mapping, problems);
    }

    private static async Task<ImportOptions> WithSavedColumnMappingAsync(
        TenantUnitOfWork unitOfWork, DocumentKind kind, ImportOptions options, CancellationToken cancellationToken)
    {
        var saved = await ColumnMappingStore.GetAsync(unitOfWork, kind, cancellationToken);
        if (saved.Count == 0)
        {
            return options;
        }

        // The request's own entries win over the saved ones for the same header.
        var merged = new Dictionary<string, string>(saved, StringComparer.Ordinal);
        foreach (var (header, column) in options.ColumnMapping ?? new Dictionary<string, string>())
        {
            merged[ColumnMapping.NormalizeHeader(header)] = column;
        }

        return options with { ColumnMapping = merged };
    }

    private async Task KeepFileAsync(string prefix, Stream content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FileChunkBytes);
        try
        {
            long offset = 0;
            while (true)
            {
                var length = await content.ReadAtLeastAsync(buffer.AsMemory(0, FileChunkBytes), FileChunkBytes, throwOnEndOfStream: false, cancellationToken);
                if (length == 0)
                {
                    break;
                }

                // Zero-padded offsets: the store's ordinal listing is file order.
                await blobs.PutAsync($"{prefix}{offset:D15}", buffer.AsMemory(0, length), cancellationToken);
                offset += length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<Stream> SpoolAsync(Stream content, CancellationToken cancellationToken)
    {
        var file = new FileStream(
            Path.Combine(Path.GetTempPath(), $"invisible-import-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 81920,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await content.CopyToAsync(file, cancellationToken);
        file.Position = 0;
        return file;
    }

    /// <summary>A second, independent reader of a file on disk (the spooled upload included), positioned at the start of the content.</summary>
    private static FileStream? OpenSecondReader(Stream content, long start)
    {
        if (content is not FileStream { Name: var path } || !File.Exists(path))
        {
            return null;
        }

        var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        reader.Position = start;
        return reader;
    }

    private async Task DeleteKeptFileAsync(string prefix, CancellationToken cancellationToken)
    {
        foreach (var chunk in await blobs.ListAsync(prefix, cancellationToken))
        {
            await blobs.DeleteAsync(chunk, cancellationToken);
        }
    }

    /// <summary>After a failed import: waits for the copy in progress and removes what it wrote, as far as that works.</summary>
    private async Task ForgetKeptFileAsync(Task? keeping, string prefix)
    {
        try
        {
            if (keeping is not null)
            {
                await keeping;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // the import's own failure is what the caller needs to see
        }

        try
        {
            await DeleteKeptFileAsync(prefix, CancellationToken.None);
        }
        catch (IOException exception)
        {
            logger.LogWarning(exception, "Could not remove the partly kept file {Prefix} of a failed import", prefix);
        }
    }

    private static string ErrorCsvBlobName(Guid tenantId, Guid importId) => $"tenants/{tenantId:N}/imports/{importId:N}/errors.csv";

    private static async Task<byte[]> ErrorCsvAsync(ImportParseResult parse, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await ErrorCsvWriter.WriteAsync(parse, buffer, cancellationToken);
        return buffer.ToArray();
    }
}
