using Dapper;
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
    /// <summary>The saved mapping of this kind of file: normalised header → canonical column; empty when none is saved.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> GetAsync(
        TenantUnitOfWork unitOfWork, DocumentKind kind, CancellationToken cancellationToken)
    {
        var rows = await unitOfWork.Connection.QueryAsync<(string Header, string Column)>(new CommandDefinition(
            "select source_header, canonical_column from import_column_mappings where tenant_id = @tenantId and kind = @kind order by source_header",
            new { tenantId = unitOfWork.TenantId, kind = ImportNames.Of(kind) },
            unitOfWork.Transaction,
            cancellationToken: cancellationToken));
        return rows.ToDictionary(row => row.Header, row => row.Column, StringComparer.Ordinal);
    }

    /// <summary>Replaces the saved mapping of this kind of file (an empty mapping removes it), audited with before and after.</summary>
    public static async Task ReplaceAsync(
        TenantUnitOfWork unitOfWork, DocumentKind kind, IReadOnlyDictionary<string, string> mapping, string actor, string? requestId,
        CancellationToken cancellationToken)
    {
        var before = await GetAsync(unitOfWork, kind, cancellationToken);
        var parameters = new { tenantId = unitOfWork.TenantId, kind = ImportNames.Of(kind) };
        await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
            "delete from import_column_mappings where tenant_id = @tenantId and kind = @kind", parameters, unitOfWork.Transaction,
            cancellationToken: cancellationToken));
        if (mapping.Count > 0)
        {
            await unitOfWork.Connection.ExecuteAsync(new CommandDefinition(
                """
                insert into import_column_mappings (tenant_id, kind, source_header, canonical_column, updated_by)
                select @tenantId, @kind, h, c, @actor from unnest(@headers, @columns) as m(h, c)
                """,
                new
                {
                    parameters.tenantId,
                    parameters.kind,
                    actor,
                    headers = mapping.Keys.Select(ColumnMapping.NormalizeHeader).ToArray(),
                    columns = mapping.Values.ToArray(),
                },
                unitOfWork.Transaction,
                cancellationToken: cancellationToken));
        }

        await AuditLog.AppendAsync(
            unitOfWork, actor, "import.column_mapping.replaced", "import_column_mapping", parameters.kind, before, mapping, requestId, cancellationToken);
    }
}
