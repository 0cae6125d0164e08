using Invisible.Data.Access;
using Invisible.Server.Matching;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
using Npgsql;

namespace Invisible.Cli.Benchmarks.Load;

/// <param name="Events">Outbox events written during the run.</param>
/// <param name="Pending">Of those, not yet delivered when the run ended and its decisions were in.</param>
/// <param name="DeadLettered">Events of the run that ended in the dead-letter table.</param>
/// <param name="FilesImported">Stored-file events (every import and every e-mailed invoice) of the run.</param>
/// <param name="ReevaluationsHandled">The re-evaluating consumer's inbox rows for those events: one each when every event is handled once.</param>
/// <param name="EmailedInvoices">E-mailed invoices of the run that were stored.</param>
/// <param name="EngineDecisionsOnEmailed">Engine decisions on them: one each when their arrival was decided once.</param>
internal sealed record DeliveryCheck(
    long Events, long Pending, long DeadLettered, long FilesImported, long ReevaluationsHandled, long EmailedInvoices, long EngineDecisionsOnEmailed);

/// <summary>
/// What the benchmark reads to check the product's work, as the cluster's superuser (across tenants, outside row-level
/// security): the outbox, the inbox, invoices and decisions. Never used by the simulated users.
/// </summary>
internal sealed class LoadObserver(string superuserConnectionString) : IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(superuserConnectionString);

    /// <summary>The newest outbox position per tenant (0 when it has none).</summary>
    public async Task<IReadOnlyDictionary<Guid, long>> OutboxPositionsAsync(IReadOnlyList<Guid> tenants, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        var newest = await db.GetTable<OutboxRow>().Where(row => tenants.Contains(row.TenantId))
            .GroupBy(row => row.TenantId).Select(group => new { Tenant = group.Key, Position = group.Max(row => row.Position) })
            .ToListAsync(cancellationToken);
        return tenants.ToDictionary(tenant => tenant, tenant => newest.FirstOrDefault(row => row.Tenant == tenant)?.Position ?? 0);
    }

    /// <summary>Each tenant's events committed after <paramref name="after"/> up to <paramref name="upTo"/> (positions).</summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyList<Guid>>> OutboxEventsAsync(
        IReadOnlyList<Guid> tenants, IReadOnlyDictionary<Guid, long> after, IReadOnlyDictionary<Guid, long> upTo, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        var from = after.Values.DefaultIfEmpty(0).Min();
        var rows = await db.GetTable<OutboxRow>().Where(row => tenants.Contains(row.TenantId) && row.Position > from)
            .Select(row => new { row.TenantId, row.Id, row.Position }).ToListAsync(cancellationToken);
        return tenants.ToDictionary(
            tenant => tenant,
            tenant => (IReadOnlyList<Guid>)rows.Where(row => row.TenantId == tenant && row.Position > after[tenant] && row.Position <= upTo[tenant]).Select(row => row.Id).ToList());
    }

    /// <summary>Invoice ids by (tenant, invoice number), for the numbers given.</summary>
    public async Task<IReadOnlyDictionary<(Guid Tenant, string Number), Guid>> InvoiceIdsAsync(
        IReadOnlyList<Guid> tenants, IReadOnlyList<string> numbers, CancellationToken cancellationToken)
    {
        if (numbers.Count == 0)
        {
            return new Dictionary<(Guid, string), Guid>();
        }

        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        var rows = await db.GetTable<InvoiceRow>().Where(row => tenants.Contains(row.TenantId) && numbers.Contains(row.InvoiceNumber))
            .Select(row => new { row.TenantId, row.InvoiceNumber, row.Id }).ToListAsync(cancellationToken);
        return rows.GroupBy(row => (row.TenantId, row.InvoiceNumber)).ToDictionary(group => group.Key, group => group.First().Id);
    }

    /// <summary>The newest outbox position over all tenants: where a run's events start.</summary>
    public async Task<long> NewestPositionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        return await db.GetTable<OutboxRow>().Select(row => (long?)row.Position).MaxAsync(cancellationToken) ?? 0;
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until no event after <paramref name="after"/> waits for delivery.</summary>
    public async Task<bool> WaitForOutboxDrainedAsync(long after, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using (var connection = await _source.OpenConnectionAsync(cancellationToken))
            {
                using var db = ProductData.On(connection);
                if (!await db.GetTable<OutboxRow>().AnyAsync(row => row.Position > after && row.PublishedAt == null, cancellationToken))
                {
                    return true;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>Whether the events written after <paramref name="after"/> were each delivered and handled once.</summary>
    public async Task<DeliveryCheck> DeliveriesAsync(long after, IReadOnlyList<Guid> emailedInvoices, CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        var events = db.GetTable<OutboxRow>().Where(row => row.Position > after);
        var fileEvents = events.Where(row => row.Topic == FileImportedTopic);
        return new DeliveryCheck(
            await events.LongCountAsync(cancellationToken),
            await events.LongCountAsync(row => row.PublishedAt == null, cancellationToken),
            await db.GetTable<DeadLetterRow>().LongCountAsync(dead => events.Any(row => row.Id == dead.Id), cancellationToken),
            await fileEvents.LongCountAsync(cancellationToken),
            await db.GetTable<InboxRow>().LongCountAsync(inbox => inbox.Consumer == ReevaluateAfterImport.Consumer && fileEvents.Any(row => row.Id == inbox.EventId), cancellationToken),
            emailedInvoices.Count,
            await db.GetTable<DecisionRow>().LongCountAsync(decision => emailedInvoices.Contains(decision.InvoiceId) && decision.DecidedBy == "engine", cancellationToken));
    }

    /// <summary>
    /// What the database's active sessions wait on, sampled every second until stopped: (wait, statement start) → samples,
    /// most frequent first. A poor man's profile of where the calls' time goes (a lock, I/O, CPU).
    /// </summary>
    public async Task<IReadOnlyList<(string Wait, string Statement, int Samples)>> SampleWaitsAsync(CancellationToken stop)
    {
        var samples = new Dictionary<(string, string), int>();
        try
        {
            while (true)
            {
                await using (var connection = await _source.OpenConnectionAsync(stop))
                {
                    using var db = ProductData.On(connection);
                    var active = await db.GetTable<ActivityRow>()
                        .Where(row => row.State == "active" && row.Database == connection.Database && row.Query != null)
                        .Select(row => new { row.WaitEventType, row.WaitEvent, row.Query })
                        .ToListAsync(stop);
                    foreach (var row in active.Where(row => !row.Query!.Contains("pg_stat_activity", StringComparison.Ordinal)))
                    {
                        var key = (row.WaitEventType is null ? "CPU" : $"{row.WaitEventType}: {row.WaitEvent}", Shorten(row.Query!));
                        samples[key] = samples.GetValueOrDefault(key) + 1;
                    }
                }

                await Task.Delay(1000, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return samples.OrderByDescending(pair => pair.Value).Select(pair => (pair.Key.Item1, pair.Key.Item2, pair.Value)).ToList();
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static string Shorten(string statement)
    {
        var oneLine = string.Join(' ', statement.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return oneLine.Length <= 90 ? oneLine : oneLine[..90];
    }

    /// <summary>The outbox topic of <see cref="Server.Imports.FileImported"/> (its <c>IntegrationEvent</c> name).</summary>
    private const string FileImportedTopic = "file-imported";

    [Table("outbox")]
    private sealed class OutboxRow
    {
        [Column("id")] public Guid Id { get; set; }
        [Column("position")] public long Position { get; set; }
        [Column("tenant_id")] public Guid TenantId { get; set; }
        [Column("topic")] public string Topic { get; set; } = "";
        [Column("published_at")] public DateTimeOffset? PublishedAt { get; set; }
    }

    [Table("pg_stat_activity")]
    private sealed class ActivityRow
    {
        [Column("datname")] public string? Database { get; set; }
        [Column("state")] public string? State { get; set; }
        [Column("wait_event_type")] public string? WaitEventType { get; set; }
        [Column("wait_event")] public string? WaitEvent { get; set; }
        [Column("query")] public string? Query { get; set; }
    }

    [Table("outbox_dead_letters")]
    private sealed class DeadLetterRow
    {
        [Column("id")] public Guid Id { get; set; }
    }

    [Table("inbox")]
    private sealed class InboxRow
    {
        [Column("consumer")] public string Consumer { get; set; } = "";
        [Column("event_id")] public Guid EventId { get; set; }
    }

    [Table("invoices")]
    private sealed class InvoiceRow
    {
        [Column("id")] public Guid Id { get; set; }
        [Column("tenant_id")] public Guid TenantId { get; set; }
        [Column("invoice_number")] public string InvoiceNumber { get; set; } = "";
    }

    [Table("match_decisions")]
    private sealed class DecisionRow
    {
        [Column("invoice_id")] public Guid InvoiceId { get; set; }
        [Column("decided_by")] public string DecidedBy { get; set; } = "";
    }
}
