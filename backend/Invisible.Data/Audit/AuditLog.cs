using System.Text.Json;
using LinqToDB;
using LinqToDB.Data;
using Invisible.Data.Tenancy;

namespace Invisible.Data.Audit;

/// <summary>Result of checking a tenant's audit hash chain.</summary>
/// <param name="EntriesChecked">Entries read.</param>
/// <param name="FirstBrokenSequence">The first entry whose hash, predecessor link or sequence number is wrong; null when intact.</param>
public sealed record AuditChainVerification(long EntriesChecked, long? FirstBrokenSequence)
{
    public bool IsIntact => FirstBrokenSequence is null;
}

/// <summary>
/// The tenant's append-only audit trail. Sequence numbers and hashes are assigned by the database (trigger
/// <c>audit_log_chain</c>): each entry's hash covers its fields and the previous entry's hash, so any edit or deletion breaks
/// the chain from that entry on.
/// </summary>
public static class AuditLog
{
    /// <summary>Appends an entry in the unit of work's transaction; <paramref name="before"/> and <paramref name="after"/> are stored as JSON. Returns its sequence number.</summary>
    public static async Task<long> AppendAsync(
        TenantUnitOfWork unitOfWork, string actor, string action, string entity, string? entityId, object? before, object? after,
        string? requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        ArgumentException.ThrowIfNullOrWhiteSpace(entity);

        // The audit_log_chain trigger assigns seq and the hashes; jsonb parameters are typed so the hash sees jsonb, not text.
        // SQL: the insert returns the seq the audit_log_chain trigger assigned, with jsonb-typed parameters for the hash.
        return await unitOfWork.Db.ExecuteAsync<long>(
            """
            insert into audit_log (tenant_id, actor, action, entity, entity_id, before, after, request_id)
            values (@tenantId, @actor, @action, @entity, @entityId, @before, @after, @requestId)
            returning seq
            """,
            cancellationToken,
            new DataParameter("tenantId", unitOfWork.TenantId, DataType.Guid),
            new DataParameter("actor", actor, DataType.Text),
            new DataParameter("action", action, DataType.Text),
            new DataParameter("entity", entity, DataType.Text),
            new DataParameter("entityId", entityId, DataType.Text),
            new DataParameter("before", ToJson(before), DataType.BinaryJson),
            new DataParameter("after", ToJson(after), DataType.BinaryJson),
            new DataParameter("requestId", requestId, DataType.Text));
    }

    /// <summary>
    /// Recomputes every hash of the unit of work's tenant and checks the links and the gap-free numbering. A chain whose oldest
    /// entries retention removed starts at the checkpoint: the first kept entry must link to the hash and follow the sequence
    /// number that a <c>retention.pruned</c> entry further on recorded as the last removed.
    /// </summary>
    public static async Task<AuditChainVerification> VerifyChainAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        // SQL: window functions over the whole chain and the checkpoint lookup in one pass: LINQ cannot say lag() over jsonb paths clearly.
        return (await unitOfWork.Db.QueryToListAsync<AuditChainVerification>(
            """
            with checkpoint as (
                select (c.after -> 'auditCheckpoint' ->> 'throughSeq')::bigint as through_seq,
                       decode(c.after -> 'auditCheckpoint' ->> 'lastRemovedHash', 'hex') as last_removed_hash
                from audit_log c
                where c.tenant_id = @tenantId and c.action = 'retention.pruned'
                  and (c.after -> 'auditCheckpoint' ->> 'throughSeq')::bigint
                      = (select min(seq) - 1 from audit_log where tenant_id = @tenantId)
                order by c.seq
                limit 1
            ),
            chain as (
                select seq, hash, prev_hash,
                       audit_entry_hash(prev_hash, tenant_id, seq, occurred_at, actor, action, entity, entity_id, before, after, request_id) as recomputed,
                       lag(hash) over (order by seq) as predecessor_hash,
                       lag(seq) over (order by seq) as predecessor_seq
                from audit_log
                where tenant_id = @tenantId
            )
            select count(*) as EntriesChecked,
                   min(seq) filter (where hash <> recomputed
                                       or prev_hash is distinct from coalesce(
                                              predecessor_hash,
                                              case when seq = 1 then decode(repeat('00', 32), 'hex')
                                                   else (select last_removed_hash from checkpoint) end)
                                       or seq is distinct from coalesce(predecessor_seq, (select through_seq from checkpoint), 0) + 1) as FirstBrokenSequence
            from chain
            """, new { tenantId = unitOfWork.TenantId }, cancellationToken)).Single();
    }

    private static string? ToJson(object? value) => value is null ? null : JsonSerializer.Serialize(value, JsonSerializerOptions.Web);
}
