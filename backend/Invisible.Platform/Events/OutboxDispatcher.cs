using Invisible.Data.Access;
using System.Collections.Concurrent;
using System.Threading.Channels;
using System.Diagnostics;
using LinqToDB.Data;
using Invisible.Data.Diagnostics;
using Invisible.Data.Tenancy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Platform.Events;

/// <summary>
/// Delivers committed outbox events through <see cref="IEventBus"/>. Woken by <c>LISTEN invisible_outbox</c> as soon as
/// a transaction that wrote events commits (the notification names the tenant, so only that tenant's outbox is read), and
/// by a timer in case a notification was lost (listener reconnecting) or a retry fell due; the timer's pass asks which
/// tenants have pending events. The outbox is tenant-owned (row-level security), so each tenant's due rows are claimed in
/// that tenant's unit of work with <c>FOR UPDATE SKIP LOCKED</c>: any number of dispatchers (one per worker) share the
/// outbox without delivering one event at the same time. A claimed batch goes to the bus at once (embedded: one
/// transaction per consumer for the whole batch), and one statement marks what was delivered. A failed event is retried
/// with exponential back-off and moves to <c>outbox_dead_letters</c> after <see cref="EventsOptions.MaxAttempts"/>
/// failures. Delivered rows stay with <c>published_at</c> set, as a record of what was sent, until
/// <see cref="OutboxRetention"/> removes them.
/// </summary>
public sealed class OutboxDispatcher(
    NpgsqlDataSource database, TenantDatabase tenants, IEventBus bus, IOptions<EventsOptions> options, ILogger<OutboxDispatcher> logger)
    : BackgroundService
{
    private const int MaxErrorLength = 2000;

    private readonly EventsOptions _options = options.Value;
    private readonly Channel<bool> _wakeUp = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Tenants named by notifications (or left with a full batch) since the last pass.</summary>
    private readonly ConcurrentDictionary<Guid, bool> _notifiedTenants = new();

    /// <summary>1 when the next pass must ask the database which tenants have pending events.</summary>
    private int _fullPassDue = 1;

    /// <summary>Delivers the events that are due, up to one batch per tenant.</summary>
    /// <returns>How many events were taken from the outbox (delivered, rescheduled or dead-lettered).</returns>
    public async Task<int> DispatchPendingAsync(CancellationToken cancellationToken)
    {
        var taken = 0;
        foreach (var tenantId in await PendingTenantsAsync(cancellationToken))
        {
            taken += await DispatchTenantBatchAsync(tenantId, cancellationToken);
        }

        return taken;
    }

    private async Task<List<Guid>> PendingTenantsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // SQL: a SECURITY DEFINER function that looks across tenants.
        return (await db.QueryToListAsync<Guid>(
            "SELECT outbox_tenants_with_pending()", cancellationToken)).ToList();
    }

    /// <summary>
    /// Dispatches until no tenant is known to have more: all tenants with pending events when a full pass is due, else
    /// the notified ones, again while notifications keep coming or a batch came back full. Each tenant has its own lane
    /// (up to <see cref="EventsOptions.DispatchConcurrency"/> at once): a tenant whose events take long, such as the
    /// re-evaluation after a large import, does not hold up another tenant's invoice that just arrived, and a tenant's own
    /// events stay in order because it never has two lanes.
    /// </summary>
    private async Task DispatchUntilIdleAsync(CancellationToken cancellationToken)
    {
        var lanes = new Dictionary<Guid, Task<bool>>();
        Task<bool>? wakeUp = null;
        try
        {
            while (true)
            {
                foreach (var tenantId in await DueTenantsAsync(lanes, cancellationToken))
                {
                    if (lanes.Count >= _options.DispatchConcurrency)
                    {
                        _notifiedTenants[tenantId] = true; // taken up when a lane is free
                        continue;
                    }

                    lanes[tenantId] = DispatchLaneAsync(tenantId, cancellationToken);
                }

                if (lanes.Count == 0)
                {
                    return;
                }

                wakeUp ??= _wakeUp.Reader.WaitToReadAsync(cancellationToken).AsTask();
                var finished = await Task.WhenAny(lanes.Values.Append(wakeUp));
                if (finished == wakeUp)
                {
                    _wakeUp.Reader.TryRead(out _);
                    wakeUp = null;
                }

                foreach (var (tenantId, lane) in lanes.Where(entry => entry.Value.IsCompleted).ToList())
                {
                    lanes.Remove(tenantId);
                    if (await lane)
                    {
                        _notifiedTenants[tenantId] = true; // a full batch: more may be due right away
                    }
                }
            }
        }
        finally
        {
            // A failing lane ends the pass; the others finish first, so no tenant ever has two lanes.
            await Task.WhenAll(lanes.Values.Select(lane => lane.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }

    /// <summary>The tenants to start a lane for: every tenant with pending events on a full pass, else the notified ones without a lane.</summary>
    private async Task<List<Guid>> DueTenantsAsync(Dictionary<Guid, Task<bool>> lanes, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _fullPassDue, 0) == 1)
        {
            _notifiedTenants.Clear();
            var pending = await PendingTenantsAsync(cancellationToken);
            foreach (var running in pending.Where(lanes.ContainsKey))
            {
                _notifiedTenants[running] = true; // looked at again once its lane ends
            }

            return pending.Where(tenantId => !lanes.ContainsKey(tenantId)).ToList();
        }

        var due = new List<Guid>();
        foreach (var tenantId in _notifiedTenants.Keys)
        {
            // A tenant whose lane is running stays notified: its lane is started again once this one ends.
            if (!lanes.ContainsKey(tenantId) && _notifiedTenants.TryRemove(tenantId, out _))
            {
                due.Add(tenantId);
            }
        }

        return due;
    }

    private async Task<bool> DispatchLaneAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the lane runs beside the others from its first statement
        return await DispatchTenantBatchAsync(tenantId, cancellationToken) >= _options.BatchSize;
    }

    private async Task<int> DispatchTenantBatchAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        const string claim = """
            SELECT id, topic, payload::text AS payload, occurred_at AS occurredat, attempts, trace_parent AS traceparent
            FROM outbox
            WHERE published_at IS NULL AND available_at <= now()
            ORDER BY position
            LIMIT @BatchSize
            FOR UPDATE SKIP LOCKED
            """;
        // SQL: claims a batch with FOR UPDATE SKIP LOCKED, which LINQ cannot say.
        var due = (await unitOfWork.Db.QueryToListAsync<OutboxRow>(
            claim, new { _options.BatchSize }, cancellationToken)).ToList();

        if (due.Count == 0)
        {
            return 0;
        }

        var envelopes = due.Select(row => new EventEnvelope(row.Id, row.Topic, tenantId, new DateTimeOffset(row.OccurredAt), row.Payload, row.TraceParent)).ToList();
        using var span = StartDispatchSpan(tenantId, envelopes);
        var failures = await bus.PublishBatchAsync(envelopes, cancellationToken);
        var dispatchedAt = DateTime.UtcNow;
        var published = new List<Guid>(due.Count);
        foreach (var row in due)
        {
            if (failures.TryGetValue(row.Id, out var failure))
            {
                await RecordFailureAsync(unitOfWork, row, failure, cancellationToken);
            }
            else
            {
                published.Add(row.Id);
                ProductDiagnostics.OutboxLag.Record(
                    Math.Max(0, (dispatchedAt - row.OccurredAt).TotalSeconds), new KeyValuePair<string, object?>("topic", row.Topic));
            }
        }

        // One statement for the whole batch; if the commit is lost, the batch is delivered again and the inboxes
        // (or, in dapr mode, the consumers' inboxes behind the broker) absorb the repeat.
        // SQL: one set-based update of the whole batch by id = any(array).
        await unitOfWork.Db.ExecuteAsync(
            "UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY(@Published)", new { Published = published.ToArray() }, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return due.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listener = ListenAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DispatchUntilIdleAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // Typically the database restarting or unreachable. What the pass had not committed stays in the
                    // outbox for the next pass, which looks at every tenant; the dispatcher itself must outlive any failure.
                    Volatile.Write(ref _fullPassDue, 1);
                    logger.LogWarning(e, "Outbox dispatch pass failed; retrying in {Interval}", _options.PollInterval);
                }

                await WaitForWorkAsync(stoppingToken);
            }
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: whatever the interrupted pass had not committed is still in the outbox.
        }
        finally
        {
            await listener;
        }
    }

    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        poll.CancelAfter(_options.PollInterval);
        try
        {
            await _wakeUp.Reader.ReadAsync(poll.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The poll interval elapsed without a notification: look at every tenant (retries falling due, lost notifications).
            Volatile.Write(ref _fullPassDue, 1);
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, notification) =>
                {
                    if (OutboxNotification.TryParse(notification.Payload, out var tenantId, out long? _))
                    {
                        _notifiedTenants[tenantId] = true;
                    }
                    else
                    {
                        Volatile.Write(ref _fullPassDue, 1);
                    }

                    _wakeUp.Writer.TryWrite(true);
                };
                // SQL: LISTEN has no LINQ form.
                await using (var listen = new NpgsqlCommand($"LISTEN {EventOutbox.NotificationChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Events committed while no one was listening are in the outbox already: look at every tenant now.
                Volatile.Write(ref _fullPassDue, 1);
                _wakeUp.Writer.TryWrite(true);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Outbox listener lost its connection; polling every {Interval} until it reconnects", _options.PollInterval);
                try
                {
                    await Task.Delay(_options.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RecordFailureAsync(TenantUnitOfWork unitOfWork, OutboxRow row, Exception error, CancellationToken cancellationToken)
    {
        var attempts = row.Attempts + 1;
        var message = error.Message.Length > MaxErrorLength ? error.Message[..MaxErrorLength] : error.Message;
        if (attempts >= _options.MaxAttempts)
        {
            logger.LogError(error, "Event {EventId} ({Topic}) failed {Attempts} times; moved to the dead letters", row.Id, row.Topic, attempts);
            ProductDiagnostics.DeadLetters.Add(1, new KeyValuePair<string, object?>("topic", row.Topic));
            const string deadLetter = """
                INSERT INTO outbox_dead_letters (id, tenant_id, topic, event_type, payload, occurred_at, attempts, last_error, trace_parent)
                SELECT id, tenant_id, topic, event_type, payload, occurred_at, @Attempts, @Error, trace_parent FROM outbox WHERE id = @Id;
                DELETE FROM outbox WHERE id = @Id;
                """;
            // SQL: moves the row to the dead letters (insert ... select, then delete) in one round trip.
            await unitOfWork.Db.ExecuteAsync(
                deadLetter, new { row.Id, Attempts = attempts, Error = message }, cancellationToken);
            return;
        }

        var delay = _options.RetryDelayAfter(attempts);
        logger.LogWarning(error, "Event {EventId} ({Topic}) failed (attempt {Attempts} of {MaxAttempts}); retrying in {Delay}",
            row.Id, row.Topic, attempts, _options.MaxAttempts, delay);
        const string reschedule = """
            UPDATE outbox
            SET attempts = @Attempts, last_error = @Error, available_at = now() + make_interval(secs => @DelaySeconds)
            WHERE id = @Id
            """;
        // SQL: the retry time is computed by make_interval on the server's clock.
        await unitOfWork.Db.ExecuteAsync(
            reschedule, new { row.Id, Attempts = attempts, Error = message, DelaySeconds = delay.TotalSeconds }, cancellationToken);
    }

    /// <summary>
    /// The span of one claimed batch: a new trace of the dispatcher's (it serves many requests at once), linked to the
    /// context of each event's writer; the subscribers' spans are children of those writers.
    /// </summary>
    private static Activity? StartDispatchSpan(Guid tenantId, List<EventEnvelope> envelopes)
    {
        if (!ProductDiagnostics.Source.HasListeners())
        {
            return null;
        }

        var links = new List<ActivityLink>();
        foreach (var envelope in envelopes)
        {
            if (envelope.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, out var writer))
            {
                links.Add(new ActivityLink(writer));
            }
        }

        var span = ProductDiagnostics.Source.StartActivity("outbox.dispatch", ActivityKind.Producer, parentContext: default, links: links);
        span?.SetTag(ProductDiagnostics.TenantAttribute, tenantId.ToString());
        span?.SetTag("messaging.batch.message_count", envelopes.Count);
        return span;
    }

    // Npgsql reads timestamptz as a UTC DateTime.
    private sealed record OutboxRow(Guid Id, string Topic, string Payload, DateTime OccurredAt, int Attempts, string? TraceParent);
}
