using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;

namespace Invisible.Data.Imports;

/// <summary>One listed problem of an import: an error that rejected it, or a warning.</summary>
/// <param name="Line">File line (header = 1); null for the file as a whole.</param>
public sealed record ImportErrorRecord(int? Line, string? Column, string? Value, string Reason, bool IsWarning);

/// <summary>Reads the tenant's import records, newest first.</summary>
public static class ImportHistory
{
    private static IQueryable<ImportRow> Imports(TenantUnitOfWork unitOfWork) =>
        unitOfWork.Db.GetTable<ImportRow>().Where(row => row.TenantId == unitOfWork.TenantId);

    public static async Task<ImportRecord> GetAsync(TenantUnitOfWork unitOfWork, Guid importId, CancellationToken cancellationToken) =>
        await FindAsync(unitOfWork, importId, cancellationToken)
        ?? throw new KeyNotFoundException($"Import {importId} does not exist in tenant {unitOfWork.TenantId}.");

    public static async Task<ImportRecord?> FindAsync(TenantUnitOfWork unitOfWork, Guid importId, CancellationToken cancellationToken)
    {
        var row = await Imports(unitOfWork).Where(row => row.Id == importId).SingleOrDefaultAsync(cancellationToken);
        return row?.ToRecord();
    }

    /// <summary>The import that stored this content, if any.</summary>
    public static async Task<ImportRecord?> FindStoredAsync(TenantUnitOfWork unitOfWork, DocumentKind kind, string contentSha256, CancellationToken cancellationToken)
    {
        var kindName = ImportNames.Of(kind);
        var sha256 = Convert.FromHexString(contentSha256);
        var row = await Imports(unitOfWork)
            .Where(row => row.Kind == kindName && row.ContentSha256 == sha256 && row.Status == "stored")
            .SingleOrDefaultAsync(cancellationToken);
        return row?.ToRecord();
    }

    /// <summary>A page of the history, newest first; pass the last <see cref="ImportRecord.ImportNo"/> of a page to get the next.</summary>
    public static async Task<IReadOnlyList<ImportRecord>> ListAsync(
        TenantUnitOfWork unitOfWork, long? beforeImportNo, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var imports = Imports(unitOfWork);
        if (beforeImportNo is { } before)
        {
            imports = imports.Where(row => row.ImportNo < before);
        }

        var rows = await imports.OrderByDescending(row => row.ImportNo).Take(pageSize).ToListAsync(cancellationToken);
        return rows.Select(row => row.ToRecord()).ToList();
    }

    /// <summary>Records where the uploaded file is kept (a blob-store prefix of its chunks), in the import's unit of work.</summary>
    public static Task SetContentBlobAsync(TenantUnitOfWork unitOfWork, Guid importId, string contentBlob, CancellationToken cancellationToken) =>
        Imports(unitOfWork).Where(row => row.Id == importId).Set(row => row.ContentBlob, contentBlob).UpdateAsync(cancellationToken);

    /// <summary>The listed errors and warnings of an import, in file order.</summary>
    public static async Task<IReadOnlyList<ImportErrorRecord>> ListErrorsAsync(
        TenantUnitOfWork unitOfWork, Guid importId, int limit, CancellationToken cancellationToken) =>
        await unitOfWork.Db.GetTable<ImportErrorRow>()
            .Where(error => error.TenantId == unitOfWork.TenantId && error.ImportId == importId)
            .OrderBy(error => error.Severity)
            .ThenBy(error => error.Line == null ? 0 : 1) // file-level problems first
            .ThenBy(error => error.Line)
            .ThenBy(error => error.ColumnName)
            .Take(limit)
            .Select(error => new ImportErrorRecord(error.Line, error.ColumnName, error.Value, error.Reason, error.Severity == "warning"))
            .ToListAsync(cancellationToken);

    [Table("import_errors")]
    private sealed class ImportErrorRow
    {
        [Column("tenant_id")] public Guid TenantId { get; init; }

        [Column("import_id")] public Guid ImportId { get; init; }

        [Column("line")] public int? Line { get; init; }

        [Column("column_name")] public string? ColumnName { get; init; }

        [Column("value")] public string? Value { get; init; }

        [Column("reason")] public string Reason { get; init; } = "";

        [Column("severity")] public string Severity { get; init; } = "";
    }

    [Table("imports")]
    internal sealed class ImportRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; init; }

        [Column("import_no")] public long ImportNo { get; init; }

        [Column("tenant_id")] public Guid TenantId { get; init; }

        [Column("kind")] public string Kind { get; init; } = "";

        [Column("file_name")] public string FileName { get; init; } = "";

        [Column("content_sha256")] public byte[] ContentSha256 { get; init; } = [];

        [Column("source")] public string Source { get; init; } = "";

        [Column("status")] public string Status { get; init; } = "";

        [Column("row_count")] public int RowCount { get; init; }

        [Column("stored_count")] public int StoredCount { get; init; }

        [Column("error_count")] public int ErrorCount { get; init; }

        [Column("warning_count")] public int WarningCount { get; init; }

        [Column("uploaded_by")] public string? UploadedBy { get; init; }

        [Column("received_at")] public DateTimeOffset ReceivedAt { get; init; }

        [Column("completed_at")] public DateTimeOffset? CompletedAt { get; init; }

        [Column("content_blob")] public string? ContentBlob { get; set; }

        public ImportRecord ToRecord() => new(
            Id,
            ImportNo,
            ImportNames.KindOf(Kind),
            FileName,
            Convert.ToHexStringLower(ContentSha256),
            ImportNames.SourceOf(Source),
            ImportNames.StatusOf(Status),
            RowCount,
            StoredCount,
            ErrorCount,
            WarningCount,
            UploadedBy,
            ReceivedAt.ToUniversalTime(),
            CompletedAt?.ToUniversalTime(),
            ContentBlob);
    }
}
