using Invisible.Ingestion;

namespace Invisible.Data.Imports;

/// <summary>Where a file came from (imports.source).</summary>
public enum ImportSource
{
    Upload,
    Api,
    Email,
    Cli,

    /// <summary>Keyed by hand from a PDF without invoice data (see keyed_invoices).</summary>
    Keyed,
}

/// <summary>The state of an import record (imports.status).</summary>
public enum ImportRecordStatus
{
    Received,
    Processing,
    Stored,
    Rejected,
    Failed,
}

/// <summary>What became of one file.</summary>
public enum ImportOutcomeKind
{
    /// <summary>Every row was valid and is stored.</summary>
    Stored,

    /// <summary>The same file (same tenant, kind and SHA-256) was already stored: nothing changed.</summary>
    Duplicate,

    /// <summary>At least one row broke the rules: only the import record and its errors were stored.</summary>
    Rejected,
}

/// <param name="Actor">Who imports (user id or "cli:operator"), for the import record and the audit trail.</param>
/// <param name="RequestId">The request that caused the import, for the audit trail.</param>
public sealed record ImportRequest(DocumentKind Kind, string FileName, ImportSource Source, string Actor, string? RequestId);

/// <summary>One row of the tenant's import history.</summary>
/// <param name="ImportNo">Global arrival order: results are listed in import order, then source line.</param>
/// <param name="ContentSha256">Lower-case hex.</param>
/// <param name="StoredCount">Rows that added or changed something (an unchanged vendor or PO line is not counted).</param>
/// <param name="ContentBlob">Blob-store prefix under which the uploaded file is kept in chunks; null when it was not kept.</param>
public sealed record ImportRecord(
    Guid Id,
    long ImportNo,
    DocumentKind Kind,
    string FileName,
    string ContentSha256,
    ImportSource Source,
    ImportRecordStatus Status,
    int RowCount,
    int StoredCount,
    int ErrorCount,
    int WarningCount,
    string? UploadedBy,
    DateTimeOffset ReceivedAt,
    DateTimeOffset? CompletedAt,
    string? ContentBlob = null);

/// <summary>
/// The verdict on one file. For <see cref="ImportOutcomeKind.Duplicate"/>, <see cref="Record"/> is the earlier import
/// that stored the same content.
/// </summary>
public sealed record ImportOutcome(ImportOutcomeKind Kind, ImportRecord Record, ImportParseResult Parse, ImportMergeSummary Merge);

/// <summary>How the accepted rows changed the tenant's data, counted in file rows.</summary>
/// <param name="ReplacedPurchaseOrders">Purchase orders of which a new version replaced the current one.</param>
public sealed record ImportMergeSummary(long Inserted, long Updated, long Unchanged, long ReplacedPurchaseOrders = 0)
{
    public static ImportMergeSummary None { get; } = new(0, 0, 0);

    public long Stored => Inserted + Updated;
}
