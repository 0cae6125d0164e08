using LinqToDB.Data;
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
        const string sql = """
            SELECT id, topic, event_type AS eventtype, tenant_id AS tenantid, occurred_at AS occurredat, attempts,
                   last_error AS lasterror, dead_lettered_at AS deadletteredat
            FROM outbox_dead_letters
            ORDER BY dead_lettered_at, id
            LIMIT @Limit
            """;
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var rows = await unitOfWork.Db.QueryToListAsync<DeadLetterRow>(
            sql, new { Limit = limit }, cancellationToken);
        return rows.Select(row => new DeadLetter(
            row.Id, row.Topic, row.EventType, row.TenantId, new DateTimeOffset(row.OccurredAt), row.Attempts, row.LastError, new DateTimeOffset(row.DeadLetteredAt))).ToList();
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
        var moved = await unitOfWork.Db.ExecuteAsync(sql, parameters, cancellationToken);
        await unitOfWork.Db.ExecuteAsync(
            $"SELECT pg_notify('{EventOutbox.NotificationChannel}', @TenantId)", new { TenantId = tenantId.ToString() }, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return moved;
    }

    // Npgsql reads timestamptz as a UTC DateTime; the record takes it as such and converts it above.
    private sealed record DeadLetterRow(Guid Id, string Topic, string EventType, Guid TenantId, DateTime OccurredAt, int Attempts, string? LastError, DateTime DeadLetteredAt);
}
