using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Invisible.Data.Diagnostics;
using Invisible.Data.Tenancy;

namespace Invisible.Platform.Events;

/// <summary>An event that failed <see cref="EventsOptions.MaxAttempts"/> deliveries (or Dapr's retries) and waits for an admin.</summary>
public sealed record DeadLetter(Guid Id, string Topic, string EventType, Guid TenantId, DateTimeOffset OccurredAt, int Attempts, string? LastError, DateTimeOffset DeadLetteredAt);

/// <summary>
/// A tenant's dead letters (<c>outbox_dead_letters</c>), for the admin RPC and <c>./invisible events dead-letters</c> /
/// <c>redrive</c>. Redriving puts an event back into the outbox with a fresh attempt count and its id unchanged, so
/// handlers that had succeeded (their inbox has the id) are not run again.
/// </summary>
public sealed class DeadLetters(TenantDatabase tenants)
{
    public async Task<IReadOnlyList<DeadLetter>> ListAsync(Guid tenantId, int limit, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.GetTable<DeadLetterRow>()
            .OrderBy(row => row.DeadLetteredAt)
            .ThenBy(row => row.Id)
            .Take(limit)
            .Select(row => new DeadLetter(row.Id, row.Topic, row.EventType, row.TenantId, row.OccurredAt, row.Attempts, row.LastError, row.DeadLetteredAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Moves the given dead letters of the tenant back into the outbox.</summary>
    /// <returns>How many were moved; ids that are not dead letters of this tenant are ignored.</returns>
    public Task<int> RedriveAsync(Guid tenantId, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        RedriveWhereAsync(tenantId, "id = ANY(@Ids)", new { Ids = ids.ToArray() }, cancellationToken);

    /// <returns>How many were moved.</returns>
    public Task<int> RedriveAllAsync(Guid tenantId, CancellationToken cancellationToken) =>
        RedriveWhereAsync(tenantId, "true", null, cancellationToken);

    /// <summary>Stores an event that Dapr gave up on (it arrived on the dead-letter topic); an id already stored is kept as is.</summary>
    public async Task RecordAsync(EventEnvelope envelope, string reason, CancellationToken cancellationToken)
    {
        // The CLR type name is not carried by the CloudEvent; the topic names the kind of event just as well.
        const string sql = """
            INSERT INTO outbox_dead_letters (id, tenant_id, topic, event_type, payload, occurred_at, attempts, last_error, trace_parent)
            VALUES (@Id, @TenantId, @Topic, @Topic, @Data::jsonb, @OccurredAt, 0, @Reason, @TraceParent)
            ON CONFLICT (id) DO NOTHING
            """;
        await using var unitOfWork = await tenants.BeginAsync(envelope.TenantId, cancellationToken);
        // SQL: an insert ... on conflict do nothing with the payload cast to jsonb.
        await unitOfWork.Db.ExecuteAsync(
            sql, new { envelope.Id, envelope.TenantId, envelope.Topic, envelope.Data, envelope.OccurredAt, Reason = reason, envelope.TraceParent }, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        ProductDiagnostics.DeadLetters.Add(1, new KeyValuePair<string, object?>("topic", envelope.Topic));
    }

    private async Task<int> RedriveWhereAsync(Guid tenantId, string condition, object? parameters, CancellationToken cancellationToken)
    {
        // An event Dapr dead-lettered was published, so its outbox row still exists: it is made pending again. The
        // insert trigger does not fire for that update, hence the explicit NOTIFY.
        var sql = $"""
            WITH redriven AS (
                DELETE FROM outbox_dead_letters WHERE {condition}
                RETURNING id, tenant_id, topic, event_type, payload, occurred_at, trace_parent)
            INSERT INTO outbox (id, tenant_id, topic, event_type, payload, occurred_at, trace_parent)
            SELECT id, tenant_id, topic, event_type, payload, occurred_at, trace_parent FROM redriven
            ON CONFLICT (id) DO UPDATE SET published_at = NULL, attempts = 0, last_error = NULL, available_at = now()
            """;
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        // SQL: moves the dead letters back set-based (delete ... returning into an upsert of the outbox).
        var moved = await unitOfWork.Db.ExecuteAsync(sql, parameters, cancellationToken);
        // SQL: pg_notify wakes the dispatcher; notifications have no LINQ form.
        await unitOfWork.Db.ExecuteAsync(
            $"SELECT pg_notify('{EventOutbox.NotificationChannel}', @TenantId)", new { TenantId = tenantId.ToString() }, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return moved;
    }

    // Npgsql reads timestamptz as a UTC DateTime; the record takes it as such and converts it above.
    /// <summary>The columns of <c>outbox_dead_letters</c> an operator lists (row-level security keeps them to the tenant); not the payload.</summary>
    [Table("outbox_dead_letters")]
    private sealed class DeadLetterRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; init; }

        [Column("topic")] public string Topic { get; init; } = "";

        [Column("event_type")] public string EventType { get; init; } = "";

        [Column("tenant_id")] public Guid TenantId { get; init; }

        [Column("occurred_at")] public DateTimeOffset OccurredAt { get; init; }

        [Column("attempts")] public int Attempts { get; init; }

        [Column("last_error")] public string? LastError { get; init; }

        [Column("dead_lettered_at")] public DateTimeOffset DeadLetteredAt { get; init; }
    }
}
