using System.Globalization;
using CsvHelper;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
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

    [Table("audit_log")]
    internal sealed class AuditLogRow
    {
        [Column("seq")] public long Seq { get; init; }

        [Column("occurred_at")] public DateTimeOffset OccurredAt { get; init; }

        [Column("actor")] public string Actor { get; init; } = "";

        [Column("action")] public string Action { get; init; } = "";

        [Column("entity")] public string Entity { get; init; } = "";

        [Column("entity_id")] public string? EntityId { get; init; }

        // jsonb read as its text, exactly as before::text renders it.
        [Column("before")] public string? BeforeJson { get; init; }

        [Column("after")] public string? AfterJson { get; init; }

        [Column("request_id")] public string? RequestId { get; init; }

        [Column("hash")] public byte[] Hash { get; init; } = [];
    }

    /// <summary>The entries <paramref name="query"/> matches: only the conditions it sets become predicates.</summary>
    private static IQueryable<AuditLogRow> Matching(TenantUnitOfWork unitOfWork, AuditQuery query)
    {
        var entries = unitOfWork.Db.GetTable<AuditLogRow>().AsQueryable();
        if (query.Actor is { } actor)
        {
            entries = entries.Where(entry => entry.Actor == actor);
        }

        if (query.ActionPrefix is { } actionPrefix)
        {
            entries = entries.Where(entry => entry.Action.StartsWith(actionPrefix));
        }

        if (query.Entity is { } entity)
        {
            entries = entries.Where(entry => entry.Entity == entity);
        }

        if (query.EntityId is { } entityId)
        {
            entries = entries.Where(entry => entry.EntityId == entityId);
        }

        if (query.From is { } from)
        {
            entries = entries.Where(entry => entry.OccurredAt >= from);
        }

        if (query.To is { } to)
        {
            entries = entries.Where(entry => entry.OccurredAt < to);
        }

        return entries;
    }

    private static AuditEntryRow ToEntry(AuditLogRow row) => new(
        row.Seq, row.OccurredAt.UtcDateTime, row.Actor, row.Action, row.Entity, row.EntityId, row.BeforeJson, row.AfterJson, row.RequestId, row.Hash);

    /// <summary>Newest first: up to <paramref name="limit"/> entries numbered below <paramref name="beforeSeq"/> (all when null).</summary>
    public async Task<IReadOnlyList<AuditEntryRow>> ListAsync(
        Guid tenantId, AuditQuery query, long? beforeSeq, int limit, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var entries = Matching(unitOfWork, query);
        if (beforeSeq is { } before)
        {
            entries = entries.Where(entry => entry.Seq < before);
        }

        var rows = await entries.OrderByDescending(entry => entry.Seq).Take(limit).ToListAsync(cancellationToken);
        return rows.Select(ToEntry).ToList();
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
            var entries = Matching(unitOfWork, query).OrderBy(entry => entry.Seq).AsAsyncEnumerable();
            await foreach (var row in entries.WithCancellation(cancellationToken))
            {
                var entry = ToEntry(row);
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
}
