using System.Globalization;
using CsvHelper;
using Dapper;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;

namespace Invisible.Server.Audit;

public sealed record AuditEntryRow(
    long Seq, DateTime OccurredAt, string Actor, string Action, string Entity, string? EntityId, string? BeforeJson, string? AfterJson,
    string? RequestId, byte[] Hash);

/// <summary>Which entries to read; every condition left null matches all. <see cref="ActionPrefix"/> matches "exception." and so on.</summary>
public sealed record AuditQuery(string? Actor, string? ActionPrefix, string? Entity, string? EntityId, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>Thrown when an export would not fit in one response; the caller narrows the filter.</summary>
public sealed class AuditExportTooLargeException(long limitBytes) : Exception($"The export exceeds {limitBytes} bytes.")
{
    public long LimitBytes { get; } = limitBytes;
}

/// <summary>
/// Reads a tenant's hash-chained audit log (appended by <see cref="AuditLog"/>), in the tenant's unit of work so row-level
/// security keeps it to that tenant.
/// </summary>
public sealed class AuditTrail(TenantDatabase database)
{
    public static readonly IReadOnlyList<string> CsvColumns =
        ["seq", "occurred_at", "actor", "action", "entity", "entity_id", "before", "after", "request_id", "hash"];

    private const string Columns =
        """
        seq as Seq, occurred_at as OccurredAt, actor as Actor, action as Action, entity as Entity, entity_id as EntityId,
        before::text as BeforeJson, after::text as AfterJson, request_id as RequestId, hash as Hash
        """;

    private const string Conditions =
        """
        (@actor is null or actor = @actor)
        and (@actionPrefix is null or starts_with(action, @actionPrefix))
        and (@entity is null or entity = @entity)
        and (@entityId is null or entity_id = @entityId)
        and (@from is null or occurred_at >= @from)
        and (@to is null or occurred_at < @to)
        """;

    /// <summary>Newest first: up to <paramref name="limit"/> entries numbered below <paramref name="beforeSeq"/> (all when null).</summary>
    public async Task<IReadOnlyList<AuditEntryRow>> ListAsync(
        Guid tenantId, AuditQuery query, long? beforeSeq, int limit, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        return (await unitOfWork.Connection.QueryAsync<AuditEntryRow>(new CommandDefinition(
            $"""
            select {Columns} from audit_log
            where {Conditions} and (@beforeSeq::bigint is null or seq < @beforeSeq)
            order by seq desc
            limit @limit
            """,
            Parameters(query, new { beforeSeq, limit }), unitOfWork.Transaction, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// Writes the matching entries as CSV (oldest first, the order of the chain; <see cref="CsvColumns"/>) and records the
    /// export itself in the audit log. Returns the number of rows.
    /// </summary>
    /// <exception cref="AuditExportTooLargeException">The CSV would exceed <paramref name="maxBytes"/>; nothing is recorded.</exception>
    public async Task<int> ExportAsync(
        Guid tenantId, AuditQuery query, Stream destination, long maxBytes, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var rows = 0;
        await using (var csv = CsvWriter.Create(destination, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true))
        {
            foreach (var column in CsvColumns)
            {
                csv.WriteField(column);
            }

            csv.EndRecord();
            var entries = unitOfWork.Connection.QueryUnbufferedAsync<AuditEntryRow>(
                $"select {Columns} from audit_log where {Conditions} order by seq", Parameters(query, new { }), unitOfWork.Transaction);
            await foreach (var entry in entries.WithCancellation(cancellationToken))
            {
                csv.WriteField(entry.Seq.ToString(CultureInfo.InvariantCulture));
                csv.WriteField(DateTime.SpecifyKind(entry.OccurredAt, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
                csv.WriteField(entry.Actor);
                csv.WriteField(entry.Action);
                csv.WriteField(entry.Entity);
                csv.WriteField(entry.EntityId ?? string.Empty);
                csv.WriteField(entry.BeforeJson ?? string.Empty);
                csv.WriteField(entry.AfterJson ?? string.Empty);
                csv.WriteField(entry.RequestId ?? string.Empty);
                csv.WriteField(Convert.ToHexStringLower(entry.Hash));
                csv.EndRecord();
                rows++;
                if (rows % 256 == 0)
                {
                    await csv.FlushAsync(cancellationToken);
                    if (destination.Length > maxBytes)
                    {
                        throw new AuditExportTooLargeException(maxBytes);
                    }
                }
            }

            await csv.FlushAsync(cancellationToken);
        }

        if (destination.Length > maxBytes)
        {
            throw new AuditExportTooLargeException(maxBytes);
        }

        await AuditLog.AppendAsync(unitOfWork, actor, "audit.exported", "audit_log", null, null,
            new { rows, query.Actor, query.ActionPrefix, query.Entity, query.EntityId, query.From, query.To }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return rows;
    }

    public async Task<AuditChainVerification> VerifyAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        return await AuditLog.VerifyChainAsync(unitOfWork, cancellationToken);
    }

    private static DynamicParameters Parameters(AuditQuery query, object extra)
    {
        var parameters = new DynamicParameters(extra);
        parameters.Add("actor", query.Actor, System.Data.DbType.String);
        parameters.Add("actionPrefix", query.ActionPrefix, System.Data.DbType.String);
        parameters.Add("entity", query.Entity, System.Data.DbType.String);
        parameters.Add("entityId", query.EntityId, System.Data.DbType.String);
        parameters.Add("from", query.From, System.Data.DbType.DateTimeOffset);
        parameters.Add("to", query.To, System.Data.DbType.DateTimeOffset);
        return parameters;
    }
}
