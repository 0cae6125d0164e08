using Dapper;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;

namespace Invisible.Data.Imports;

/// <summary>One listed problem of an import: an error that rejected it, or a warning.</summary>
/// <param name="Line">File line (header = 1); null for the file as a whole.</param>
public sealed record ImportErrorRecord(int? Line, string? Column, string? Value, string Reason, bool IsWarning);

/// <summary>Reads the tenant's import records, newest first.</summary>
public static class ImportHistory
{
    private const string SelectRecord = """
        select id, import_no, kind, file_name, encode(content_sha256, 'hex') as content_sha256, source, status, row_count,
               stored_count, error_count, warning_count, uploaded_by, received_at, completed_at, content_blob
        from imports
        """;

    public static async Task<ImportRecord> GetAsync(TenantUnitOfWork unitOfWork, Guid importId, CancellationToken cancellationToken) =>
        await FindAsync(unitOfWork, importId, cancellationToken)
        ?? throw new KeyNotFoundException($"Import {importId} does not exist in tenant {unitOfWork.TenantId}.");

    public static async Task<ImportRecord?> FindAsync(TenantUnitOfWork unitOfWork, Guid importId, CancellationToken cancellationToken)
    {
        var row = await unitOfWork.Connection.QuerySingleOrDefaultAsync<ImportRow>(new CommandDefinition(
            SelectRecord + " where tenant_id = @tenantId and id = @importId",
            new { tenantId = unitOfWork.TenantId, importId },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <summary>The import that stored this content, if any.</summary>
    public static async Task<ImportRecord?> FindStoredAsync(TenantUnitOfWork unitOfWork, DocumentKind kind, string contentSha256, CancellationToken cancellationToken)
    {
        var row = await unitOfWork.Connection.QuerySingleOrDefaultAsync<ImportRow>(new CommandDefinition(
            SelectRecord + " where tenant_id = @tenantId and kind = @kind and content_sha256 = decode(@sha256, 'hex') and status = 'stored'",
            new { tenantId = unitOfWork.TenantId, kind = ImportNames.Of(kind), sha256 = contentSha256.ToLowerInvariant() },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <summary>A page of the history, newest first; pass the last <see cref="ImportRecord.ImportNo"/> of a page to get the next.</summary>
    public static async Task<IReadOnlyList<ImportRecord>> ListAsync(
        TenantUnitOfWork unitOfWork, long? beforeImportNo, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var rows = await unitOfWork.Connection.QueryAsync<ImportRow>(new CommandDefinition(
            SelectRecord + " where tenant_id = @tenantId and (@before::bigint is null or import_no < @before) order by import_no desc limit @pageSize",
            new { tenantId = unitOfWork.TenantId, before = beforeImportNo, pageSize },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));
        return rows.Select(row => row.ToRecord()).ToList();
    }

    /// <summary>Records where the uploaded file is kept (a blob-store prefix of its chunks), in the import's unit of work.</summary>
    public static Task SetContentBlobAsync(TenantUnitOfWork unitOfWork, Guid importId, string contentBlob, CancellationToken cancellationToken) =>
        unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            "update imports set content_blob = @contentBlob where tenant_id = @tenantId and id = @importId",
            new { tenantId = unitOfWork.TenantId, importId, contentBlob },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));

    /// <summary>The listed errors and warnings of an import, in file order.</summary>
    public static async Task<IReadOnlyList<ImportErrorRecord>> ListErrorsAsync(
        TenantUnitOfWork unitOfWork, Guid importId, int limit, CancellationToken cancellationToken)
    {
        var rows = await unitOfWork.Connection.QueryAsync<ImportErrorRecord>(new CommandDefinition(
            """
            select line as Line, column_name as Column, value as Value, reason as Reason, severity = 'warning' as IsWarning
            from import_errors where tenant_id = @tenantId and import_id = @importId
            order by severity, line nulls first, column_name
            limit @limit
            """,
            new { tenantId = unitOfWork.TenantId, importId, limit },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));
        return rows.ToList();
    }

    private sealed record ImportRow(
        Guid Id,
        long Import_No,
        string Kind,
        string File_Name,
        string Content_Sha256,
        string Source,
        string Status,
        int Row_Count,
        int Stored_Count,
        int Error_Count,
        int Warning_Count,
        string? Uploaded_By,
        DateTime Received_At,
        DateTime? Completed_At,
        string? Content_Blob)
    {
        public ImportRecord ToRecord() => new(
            Id,
            Import_No,
            ImportNames.KindOf(Kind),
            File_Name,
            Content_Sha256,
            ImportNames.SourceOf(Source),
            ImportNames.StatusOf(Status),
            Row_Count,
            Stored_Count,
            Error_Count,
            Warning_Count,
            Uploaded_By,
            new DateTimeOffset(Received_At, TimeSpan.Zero),
            Completed_At is { } completed ? new DateTimeOffset(completed, TimeSpan.Zero) : null,
            Content_Blob);
    }
}
