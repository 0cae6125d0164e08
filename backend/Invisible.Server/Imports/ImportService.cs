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
/// its record, its errors and a downloadable error CSV.
/// </summary>
public sealed class ImportService(TenantDatabase tenants, IBlobStore blobs, TimeProvider time, ILogger<ImportService> logger)
{
    public async Task<ImportOutcome> ImportAsync(
        Guid tenantId,
        ImportRequest request,
        Stream content,
        ImportOptions options,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var outcome = await ImportStore.StoreAsync(unitOfWork, request, content, options, progress, cancellationToken);
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
        logger.LogInformation(
            "Import {ImportId} of {Kind} file {FileName} for tenant {TenantId}: {Outcome}, {RowCount} rows, {StoredCount} stored, {ErrorCount} errors",
            outcome.Record.Id, request.Kind, request.FileName, tenantId, outcome.Kind, outcome.Parse.RowCount, outcome.Merge.Stored,
            outcome.Parse.TotalErrorCount);
        return outcome;
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

    private static string ErrorCsvBlobName(Guid tenantId, Guid importId) => $"tenants/{tenantId:N}/imports/{importId:N}/errors.csv";

    private static async Task<byte[]> ErrorCsvAsync(ImportParseResult parse, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await ErrorCsvWriter.WriteAsync(parse, buffer, cancellationToken);
        return buffer.ToArray();
    }
}
