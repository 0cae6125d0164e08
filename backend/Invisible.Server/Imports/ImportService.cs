using System.Buffers;
using System.Diagnostics;
using Invisible.Data.Diagnostics;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Ingestion.Validation;
using Invisible.Platform.Blobs;
using Invisible.Platform.Events;
using Invisible.Server.FieldEncryption;

namespace Invisible.Server.Imports;

/// <summary>
/// Imports one file for one tenant: the single code path behind the gRPC upload and <c>invisible import</c>. The rows,
/// the import record, its audit entry and the <see cref="FileImported"/> event commit together; a rejected file leaves
/// its record, its errors and a downloadable error CSV. The file itself (stored or rejected) is kept in the blob store,
/// referenced from its import record. The tenant's saved column mapping for the kind of file applies unless the request
/// maps a header itself.
/// </summary>
/// <param name="personalDataKeys">Seals vendors' tax ids and e-mail addresses before they are staged; without it (no secret store at hand) vendor files cannot be imported.</param>
public sealed class ImportService(
    TenantDatabase tenants, IBlobStore blobs, ImportSpools spools, TimeProvider time, ILogger<ImportService> logger, PersonalDataKeys? personalDataKeys = null)
{
    /// <summary>Files are kept in chunks of this size, so that keeping a large file costs no more memory than one chunk.</summary>
    public const int FileChunkBytes = 4 << 20;

    /// <summary>
    /// Imports <paramref name="content"/> from its current position to its end. The bytes are copied once into a private
    /// spool, hashing as they are copied, and everything after reads that copy: a source that changes meanwhile cannot
    /// make the stored rows, the recorded hash and the kept file disagree.
    /// </summary>
    /// <exception cref="FileChangedDuringImportException">A file on disk was written to while it was copied; nothing was imported.</exception>
    public async Task<ImportOutcome> ImportAsync(
        Guid tenantId,
        ImportRequest request,
        Stream content,
        ImportOptions options,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken)
    {
        var total = content.CanSeek ? content.Length - content.Position : (long?)null;
        SpooledFile file;
        using (ProductDiagnostics.StartSpan("import.copy", tenantId))
        {
            file = await SpooledFile.CopyAsync(
                spools, content, request.FileName, copied => progress?.Report(new ImportProgress(ImportPhase.Copying, 0, copied, total)), cancellationToken);
        }

        await using var spooled = file;
        return await ImportAsync(tenantId, request, file, options, progress, cancellationToken);
    }

    /// <summary>Imports one spooled version of a file (an assembled upload, or what the other overload copied).</summary>
    public async Task<ImportOutcome> ImportAsync(
        Guid tenantId,
        ImportRequest request,
        SpooledFile file,
        ImportOptions options,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken)
    {
        // Kept from the spool while it is imported (the copy costs no extra time), before the commit like the error CSV: a
        // record never points at a file not written. Content already stored is not kept again: it would be a duplicate,
        // whose copy would only be written to be deleted.
        using var span = ProductDiagnostics.StartSpan("import", tenantId);
        span?.SetTag("invisible.import.kind", ImportNames.Of(request.Kind));
        var prefix = KeptFiles.NewPrefix(tenantId, time.GetUtcNow());
        Task? keeping = null;
        ImportOutcome outcome;
        try
        {
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            if (await ImportHistory.FindStoredAsync(unitOfWork, request.Kind, file.Sha256, cancellationToken) is null)
            {
                keeping = KeepFileAsync(prefix, file, cancellationToken);
            }

            options = await WithSavedColumnMappingAsync(unitOfWork, request.Kind, options, cancellationToken);
            file.Stream.Position = 0;
            var vendorSealing = request.Kind == DocumentKind.Vendors && personalDataKeys is not null
                ? await personalDataKeys.VendorSealingAsync(cancellationToken)
                : null;
            outcome = await ImportStore.StoreAsync(unitOfWork, request, file.Stream, options, progress, cancellationToken, vendorSealing);
            if (keeping is not null)
            {
                await keeping;
            }

            // Both hashes are of the spool, which only this import can see; a difference would be a defect, never stored.
            if (!string.Equals(outcome.Parse.ContentSha256, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Import of {request.FileName}: the parsed bytes have SHA-256 {outcome.Parse.ContentSha256}, the copied ones {file.Sha256}; nothing was stored.");
            }

            if (outcome.Kind == ImportOutcomeKind.Duplicate)
            {
                // The earlier import kept this very content already (reached here only when an identical import raced this one).
                await DeleteKeptFileAsync(prefix, cancellationToken);
            }
            else
            {
                if (keeping is null)
                {
                    await KeepFileAsync(prefix, file, cancellationToken);
                }

                await ImportHistory.SetContentBlobAsync(unitOfWork, outcome.Record.Id, prefix, cancellationToken);
                outcome = outcome with { Record = outcome.Record with { ContentBlob = prefix } };
            }

            using (ProductDiagnostics.StartSpan("import.commit", tenantId))
            {
                await FinishAsync(unitOfWork, tenantId, outcome, cancellationToken);
            }
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            await ForgetKeptFileAsync(keeping, prefix);
            throw;
        }

        if (outcome.Kind == ImportOutcomeKind.Stored)
        {
            await RefreshStatisticsAsync(tenantId, request.Kind, cancellationToken);
        }

        var kind = new KeyValuePair<string, object?>("kind", ImportNames.Of(request.Kind));
        var outcomeName = outcome.Kind.ToString().ToLowerInvariant();
        span?.SetTag("invisible.import.outcome", outcomeName);
        ProductDiagnostics.ImportRows.Add(outcome.Parse.RowCount, kind, new("outcome", outcomeName));
        if (outcome.Kind == ImportOutcomeKind.Rejected)
        {
            ProductDiagnostics.ImportRejections.Add(1, kind);
        }

        logger.LogInformation(
            "Import {ImportId} of {Kind} file {FileName} for tenant {TenantId}: {Outcome}, {RowCount} rows, {StoredCount} stored, {ErrorCount} errors",
            outcome.Record.Id, request.Kind, request.FileName, tenantId, outcome.Kind, outcome.Parse.RowCount, outcome.Merge.Stored,
            outcome.Parse.TotalErrorCount);
        return outcome;
    }

    /// <summary>
    /// A bulk write: the next list query must not be planned against statistics from before it (or none at all). In a
    /// transaction of its own after the import's commit, taking no other lock: ANALYZE locks the whole table until its
    /// transaction ends, and inside the import it was taken after the tenant's audit lock, where a decision on arrival
    /// (which analyses invoices, then appends its audit entry) takes them the other way round: PostgreSQL 40P01.
    /// The import is committed by now, so a failure here is logged, not thrown (autovacuum refreshes them later).
    /// </summary>
    private async Task RefreshStatisticsAsync(Guid tenantId, DocumentKind kind, CancellationToken cancellationToken)
    {
        using var span = ProductDiagnostics.StartSpan("import.statistics", tenantId);
        try
        {
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            await TableStatistics.RefreshAsync(unitOfWork, ImportStore.ChangedTables(kind), cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException)
        {
            logger.LogWarning(exception, "Statistics of the tables of a stored {Kind} import of tenant {TenantId} were not refreshed", kind, tenantId);
        }
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
                await EventOutbox.EnqueueAsync(unitOfWork, new ImportRejected(
                    Guid.NewGuid(), tenantId, time.GetUtcNow(), outcome.Record.Id, ImportNames.Of(outcome.Record.Kind), outcome.Record.FileName,
                    outcome.Record.Source.ToString().ToLowerInvariant(), outcome.Record.UploadedBy ?? "", outcome.Parse.TotalErrorCount,
                    outcome.Parse.Errors.Count > 0 ? outcome.Parse.Errors[0].Reason : ""), cancellationToken);
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

    /// <summary>Keeps the spooled bytes by positional reads of its handle, so the import reading the same spool meanwhile is undisturbed.</summary>
    private async Task KeepFileAsync(string prefix, SpooledFile file, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FileChunkBytes);
        try
        {
            long offset = 0;
            while (offset < file.Length)
            {
                var length = 0;
                while (length < FileChunkBytes && offset + length < file.Length)
                {
                    var read = await file.ReadAtAsync(buffer.AsMemory(length, FileChunkBytes - length), offset + length, cancellationToken);
                    if (read == 0)
                    {
                        throw new InvalidOperationException($"The spool of an import ended at byte {offset + length} of {file.Length}.");
                    }

                    length += read;
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
