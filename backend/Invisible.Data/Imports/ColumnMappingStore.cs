using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;

namespace Invisible.Data.Imports;

/// <summary>
/// The tenant's saved column mapping per kind of file (table import_column_mappings), in the caller's unit of work.
/// Headers are stored normalised (<see cref="ColumnMapping.NormalizeHeader"/>); callers validate with
/// <see cref="ColumnMapping.Validate"/> first.
/// </summary>
public static class ColumnMappingStore
{
    [Table("import_column_mappings")]
    private sealed class ColumnMappingRow
    {
        [Column("tenant_id")] public Guid TenantId { get; init; }

        [Column("kind")] public string Kind { get; init; } = "";

        [Column("source_header")] public string SourceHeader { get; init; } = "";

        [Column("canonical_column")] public string CanonicalColumn { get; init; } = "";

        [Column("updated_by")] public string? UpdatedBy { get; init; }
    }

    /// <summary>The saved mapping of this kind of file: normalised header → canonical column; empty when none is saved.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> GetAsync(
        TenantUnitOfWork unitOfWork, DocumentKind kind, CancellationToken cancellationToken)
    {
        var rows = await Of(unitOfWork, ImportNames.Of(kind)).OrderBy(row => row.SourceHeader).ToListAsync(cancellationToken);
        return rows.ToDictionary(row => row.SourceHeader, row => row.CanonicalColumn, StringComparer.Ordinal);
    }

    /// <summary>Replaces the saved mapping of this kind of file (an empty mapping removes it), audited with before and after.</summary>
    public static async Task ReplaceAsync(
        TenantUnitOfWork unitOfWork, DocumentKind kind, IReadOnlyDictionary<string, string> mapping, string actor, string? requestId,
        CancellationToken cancellationToken)
    {
        var before = await GetAsync(unitOfWork, kind, cancellationToken);
        var kindName = ImportNames.Of(kind);
        await Of(unitOfWork, kindName).DeleteAsync(cancellationToken);
        if (mapping.Count > 0)
        {
            var rows = mapping.Select(entry => new ColumnMappingRow
            {
                TenantId = unitOfWork.TenantId,
                Kind = kindName,
                SourceHeader = ColumnMapping.NormalizeHeader(entry.Key),
                CanonicalColumn = entry.Value,
                UpdatedBy = actor,
            });
            await unitOfWork.Db.BulkCopyAsync(new BulkCopyOptions { BulkCopyType = BulkCopyType.MultipleRows }, rows, cancellationToken);
        }

        await AuditLog.AppendAsync(
            unitOfWork, actor, "import.column_mapping.replaced", "import_column_mapping", kindName, before, mapping, requestId, cancellationToken);
    }

    private static IQueryable<ColumnMappingRow> Of(TenantUnitOfWork unitOfWork, string kind) =>
        unitOfWork.Db.GetTable<ColumnMappingRow>().Where(row => row.TenantId == unitOfWork.TenantId && row.Kind == kind);
}
