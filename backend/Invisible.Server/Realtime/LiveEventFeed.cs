using System.Collections.Concurrent;
using System.Threading.Channels;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using Npgsql;

namespace Invisible.Server.Realtime;

/// <summary>An event as a watcher sees it: committed, in its tenant's commit order.</summary>
public sealed record LiveEvent(long Position, Guid Id, string Topic, DateTimeOffset OccurredAt, string PayloadJson);

/// <summary>A live subscription: read <see cref="Events"/> until disposed.</summary>
public sealed class LiveSubscription(ChannelReader<LiveEvent> events, Action unsubscribe) : IDisposable
{
    public ChannelReader<LiveEvent> Events => events;

    public void Dispose() => unsubscribe();
}

/// <summary>
/// Feeds <c>EventService.Watch</c>: committed outbox events of a tenant, to every watcher of that tenant, in any role and
/// any process. It listens on the outbox's notification channel (raised by the insert trigger, delivered at commit) and
/// then reads the tenant's new rows under row-level security, so a watcher can only ever see its own tenant's events.
/// Watching needs no dispatcher, so an <c>api</c> replica serves live updates for events that workers deliver.
/// </summary>
public sealed class LiveEventFeed(NpgsqlDataSource database, TenantDatabase tenants, ILogger<LiveEventFeed> logger, TimeProvider time) : BackgroundService
{
    /// <summary>How long a hole in the positions is waited for (a transaction still open) before it counts as rolled back.</summary>
    public static readonly TimeSpan GapTimeout = TimeSpan.FromSeconds(30);

    private const int WatcherBuffer = 1024;
    private const int ReadBatch = 500;
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, TenantWatchers> _watched = new();
    private readonly Channel<Guid> _changed = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The fan-out loop's own connection for reading new rows: no pool round trip, no transaction set-up per read.</summary>
    private NpgsqlConnection? _reader;

    /// <summary>
    /// Subscribes to the events of <paramref name="tenantId"/> committed from now on: when this returns, nothing committed
    /// afterwards can be missed. Dispose the subscription to end it.
    /// </summary>
    public async Task<LiveSubscription> SubscribeAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        // A watcher that cannot keep up loses its oldest updates rather than holding memory for everyone; it can reload.
        var channel = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(WatcherBuffer) { FullMode = BoundedChannelFullMode.DropOldest });
        var watchers = _watched.GetOrAdd(tenantId, _ => new TenantWatchers());
        await watchers.AddAsync(channel.Writer, () => LatestPositionAsync(tenantId, cancellationToken));
        return new LiveSubscription(channel.Reader, () => watchers.Remove(channel.Writer));
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenAsync(stoppingToken), FanOutAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, notification) =>
                {
                    if (Guid.TryParse(notification.Payload, out var tenantId))
                    {
                        _changed.Writer.TryWrite(tenantId);
                    }
                };
                // SQL: LISTEN has no LINQ form.
                await using (var listen = new NpgsqlCommand($"LISTEN {EventOutbox.NotificationChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Whatever was committed while no one listened is caught up from each tenant's last position.
                foreach (var tenantId in _watched.Keys)
                {
                    _changed.Writer.TryWrite(tenantId);
                }

                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Live event feed lost its database connection; reconnecting");
                await Task.Delay(ReconnectDelay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task FanOutAsync(CancellationToken stoppingToken)
    {
        try
        {
            var changed = new HashSet<Guid>();
            while (await _changed.Reader.WaitToReadAsync(stoppingToken))
            {
                // One read per tenant for however many commits were notified meanwhile.
                while (_changed.Reader.TryRead(out var tenantId))
                {
                    changed.Add(tenantId);
                }

                foreach (var tenantId in changed)
                {
                    if (_watched.TryGetValue(tenantId, out var watchers) && watchers.HasWatchers)
                    {
                        await DeliverNewEventsAsync(tenantId, watchers, stoppingToken);
                    }
                }

                changed.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (_reader is not null)
            {
                await _reader.DisposeAsync();
                _reader = null;
            }
        }
    }

    private async Task DeliverNewEventsAsync(Guid tenantId, TenantWatchers watchers, CancellationToken cancellationToken)
    {
        try
        {
            List<LiveEvent> batch;
            do
            {
                var (settled, sent) = watchers.ReadFrom();
                batch = await ReadNewEventsAsync(tenantId, settled, sent, cancellationToken);
                watchers.Publish(batch, time);
            }
            while (batch.Count == ReadBatch);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The next notification (or reconnect) reads again from the settled mark; nothing is skipped.
            logger.LogWarning(exception, "Could not read new events for tenant {TenantId}", tenantId);
        }
    }

    /// <summary>
    /// Reads a tenant's new rows in one round trip on the feed's own connection, which only the fan-out loop uses. The two
    /// statements go as one batch, which PostgreSQL runs as one implicit transaction: the tenant setting is
    /// transaction-local, so row-level security applies to the select and the connection holds no tenant afterwards.
    /// </summary>
    private async Task<List<LiveEvent>> ReadNewEventsAsync(Guid tenantId, long settled, long[] sent, CancellationToken cancellationToken)
    {
        _reader ??= await database.OpenConnectionAsync(cancellationToken);
        try
        {
            // SQL: the tenant setting and the read go as one batch on the feed's own connection (see above), which linq2db cannot send.
            await using var batch = new NpgsqlBatch(_reader)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("select set_config('app.tenant_id', $1, true)") { Parameters = { new() { Value = tenantId.ToString() } } },
                    new NpgsqlBatchCommand(
                        """
                        select position, id, topic, occurred_at, payload::text
                        from outbox where position > $1 and position <> all($2) order by position limit $3
                        """)
                    {
                        Parameters = { new() { Value = settled }, new() { Value = sent }, new() { Value = ReadBatch } },
                    },
                },
            };
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            var events = new List<LiveEvent>();
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(new LiveEvent(
                    reader.GetInt64(0),
                    reader.GetGuid(1),
                    reader.GetString(2),
                    new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                    reader.GetString(4)));
            }

            return events;
        }
        catch
        {
            // A broken connection is replaced on the next read.
            await _reader.DisposeAsync();
            _reader = null;
            throw;
        }
    }

    private async Task<long> LatestPositionAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await unitOfWork.Db.GetTable<OutboxPositionRow>().MaxAsync(row => (long?)row.Position, cancellationToken) ?? 0;
    }

    /// <summary>Where an event stands in the tenant's outbox (row-level security keeps it to the tenant).</summary>
    [Table("outbox")]
    private sealed class OutboxPositionRow
    {
        [Column("position")] public long Position { get; init; }
    }

    /// <summary>The watchers of one tenant and how far they have been sent.</summary>
#pragma warning disable CA1001 // The semaphore never allocates a wait handle (only WaitAsync is used), so there is nothing to dispose.
    private sealed class TenantWatchers
#pragma warning restore CA1001
    {
        private readonly Lock _gate = new();
        private readonly List<ChannelWriter<LiveEvent>> _writers = [];
        private readonly SemaphoreSlim _joining = new(1, 1);

        private CommitOrderTracker _tracker = new(0, GapTimeout);

        public bool HasWatchers
        {
            get
            {
                lock (_gate)
                {
                    return _writers.Count > 0;
                }
            }
        }

        /// <summary>A tenant's first watcher (again, after all had left) fixes where the stream begins: the newest event committed before it.</summary>
        public async Task AddAsync(ChannelWriter<LiveEvent> writer, Func<Task<long>> latestPosition)
        {
            await _joining.WaitAsync();
            try
            {
                if (!HasWatchers)
                {
                    var latest = await latestPosition();
                    lock (_gate)
                    {
                        _tracker = new CommitOrderTracker(latest, GapTimeout);
                    }
                }

                lock (_gate)
                {
                    _writers.Add(writer);
                }
            }
            finally
            {
                _joining.Release();
            }
        }

        public void Remove(ChannelWriter<LiveEvent> writer)
        {
            lock (_gate)
            {
                _writers.Remove(writer);
            }
        }

        public (long Settled, long[] Sent) ReadFrom()
        {
            lock (_gate)
            {
                return (_tracker.Settled, [.. _tracker.SentAboveSettled]);
            }
        }

        public void Publish(List<LiveEvent> events, TimeProvider time)
        {
            lock (_gate)
            {
                foreach (var liveEvent in events.Where(e => _tracker.TryMarkSent(e.Position)))
                {
                    foreach (var writer in _writers)
                    {
                        writer.TryWrite(liveEvent);
                    }
                }

                _tracker.Advance(time.GetTimestamp(), time);
            }
        }
    }
}
