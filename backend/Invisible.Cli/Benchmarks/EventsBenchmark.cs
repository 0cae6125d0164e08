using System.Collections.Concurrent;
using System.Diagnostics;
using Invisible.Data.Tenancy;
using Invisible.Platform.Events;
using Invisible.Server.Hosting;
using Invisible.Server.Realtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// The event path of embedded mode at 1,000 events/s: commit → subscriber through the outbox dispatcher and inbox, and
/// commit → the live feed behind <c>EventService.Watch</c>. Baseline in the same run and database: a bare transaction that
/// only raises a PostgreSQL notification, received by a listener (the floor any commit-to-client path stands on).
/// </summary>
internal sealed class EventsBenchmark : IBenchmark
{
    private const int Rate = 1_000;
    private const int Events = 5_000;
    private const int WarmUpEvents = 1_000;

    /// <summary>
    /// Each producer commits one transaction at a time (four or five round trips), so a few producers cannot offer
    /// 1,000/s on a small machine however idle the database is; sixteen can, and leave the schedule to set the rate.
    /// </summary>
    private const int Producers = 16;
    private const string BaselineChannel = "invisible_bench_baseline";

    public string Name => "events";

    public string Description => $"{Events:N0} events at {Rate:N0}/s: commit → subscriber (dispatcher) and commit → Watch feed, against bare NOTIFY; dispatcher drain rate";

    public async Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken)
    {
        context.Report("starting a private PostgreSQL cluster");
        await using var product = await LocalProduct.OpenAsync(context.WorkDirectory, context.Logging, cancellationToken);
        var database = product.Services.GetRequiredService<NpgsqlDataSource>();
        var tenants = product.Services.GetRequiredService<TenantDatabase>();
        var tenantId = await product.Services.GetRequiredService<TenantDirectory>().CreateAsync("bench-events", "Bench", "USD", cancellationToken);

        // The first seconds of a process run code that is not yet optimised (tiered JIT) and fill the connection pool:
        // both paths are exercised once, unmeasured, as the rpc benchmark warms up its servers.
        context.Report($"warm-up: {WarmUpEvents:N0} events through bare NOTIFY and the Watch feed (not measured)");
        await MeasureBareNotifyAsync(database, WarmUpEvents, cancellationToken);
        await MeasureWatchFeedAsync(database, tenants, tenantId, WarmUpEvents, cancellationToken);
        context.Report("baseline: bare NOTIFY to a listener");
        var baseline = await MeasureBareNotifyAsync(database, Events, cancellationToken);
        context.Report("commit → Watch feed");
        var watch = await MeasureWatchFeedAsync(database, tenants, tenantId, Events, cancellationToken);
        // No dispatcher ran while the Watch feed was measured, so its events are still pending: left there, the dispatcher
        // measured next would first work through those 6,000 and count the wait against the events it is timed on.
        await DiscardPendingEventsAsync(tenants, tenantId, cancellationToken);
        context.Report("commit → subscriber through the dispatcher");
        var dispatched = await EventLatencyProbe.MeasureAsync(database, tenantId, Events, Rate, NullLoggerFactory.Instance, cancellationToken);
        context.Report("dispatcher draining a full outbox");
        var drained = await EventLatencyProbe.MeasureDrainAsync(database, tenantId, Events, NullLoggerFactory.Instance, cancellationToken);

        return
        [
            new BenchmarkFigure($"commit → Watch feed p99 at {Rate:N0}/s", watch.P99, "ms", baseline.P99, "< 100 ms", watch.P99 < 100),
            new BenchmarkFigure($"commit → Watch feed p50 at {Rate:N0}/s", watch.P50, "ms", baseline.P50),
            new BenchmarkFigure($"commit → Watch feed delivered", watch.Delivered, "events", Events),
            // On a busy machine the producers may not reach the offered rate: each latency is shown with the rate it was measured at.
            new BenchmarkFigure($"  producers' commits/s for the Watch feed ({Rate:N0}/s offered)", watch.CommittedPerSecond, "events/s", Rate),
            new BenchmarkFigure($"producers' commits/s for the dispatcher ({Rate:N0}/s offered)", dispatched.CommittedPerSecond, "events/s", Rate),
            new BenchmarkFigure("commit → subscriber (dispatcher) throughput", dispatched.DeliveredPerSecond, "events/s", dispatched.CommittedPerSecond,
                "≥ 0.95× commits/s", dispatched.Delivered == Events && dispatched.DeliveredPerSecond >= 0.95 * dispatched.CommittedPerSecond),
            new BenchmarkFigure("commit → subscriber (dispatcher) p99", dispatched.P99Milliseconds, "ms", baseline.P99),
            new BenchmarkFigure("commit → subscriber (dispatcher) p50", dispatched.P50Milliseconds, "ms", baseline.P50),
            new BenchmarkFigure($"dispatcher draining {Events:N0} waiting events", drained.DeliveredPerSecond, "events/s", Rate,
                $"≥ {Rate:N0}/s", drained.Delivered == Events && drained.DeliveredPerSecond >= Rate),
        ];
    }

    private static async Task<Latencies> MeasureWatchFeedAsync(
        NpgsqlDataSource database, TenantDatabase tenants, Guid tenantId, int events, CancellationToken cancellationToken)
    {
        using var feed = new LiveEventFeed(database, tenants, NullLogger<LiveEventFeed>.Instance, TimeProvider.System);
        await feed.StartAsync(cancellationToken);
        try
        {
            using var subscription = await feed.SubscribeAsync(tenantId, cancellationToken);
            var arrivals = new ConcurrentDictionary<Guid, long>();
            var reader = Task.Run(async () =>
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(TimeSpan.FromSeconds(events / Rate + 30));
                try
                {
                    while (arrivals.Count < events)
                    {
                        var liveEvent = await subscription.Events.ReadAsync(deadline.Token);
                        arrivals[liveEvent.Id] = Stopwatch.GetTimestamp();
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Report what arrived.
                }
            }, cancellationToken);

            var committed = await ProduceAtRateAsync(events, async (index, committing) =>
            {
                var probe = new WatchProbed(Guid.NewGuid(), tenantId, DateTimeOffset.UtcNow, index);
                await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
                await EventOutbox.EnqueueAsync(unitOfWork, probe, cancellationToken);
                committing(probe.Id);
                await unitOfWork.CommitAsync(cancellationToken);
            }, cancellationToken);
            await reader;
            return Latencies.Of(committed, arrivals);
        }
        finally
        {
            await feed.StopAsync(CancellationToken.None);
        }
    }

    private static async Task DiscardPendingEventsAsync(TenantDatabase tenants, Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        // SQL: clears the benchmark's own leftovers on the unit of work's connection in one statement.
        await using (var discard = new NpgsqlCommand("delete from outbox where published_at is null", unitOfWork.Connection, unitOfWork.Transaction))
        {
            await discard.ExecuteNonQueryAsync(cancellationToken);
        }

        await unitOfWork.CommitAsync(cancellationToken);
    }

    private static async Task<Latencies> MeasureBareNotifyAsync(NpgsqlDataSource database, int events, CancellationToken cancellationToken)
    {
        var arrivals = new ConcurrentDictionary<Guid, long>();
        await using var listener = await database.OpenConnectionAsync(cancellationToken);
        listener.Notification += (_, notification) => arrivals[Guid.Parse(notification.Payload)] = Stopwatch.GetTimestamp();
        // SQL: LISTEN has no LINQ form.
        await using (var listen = new NpgsqlCommand($"LISTEN {BaselineChannel}", listener))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var listening = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await listener.WaitAsync(stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);

        var committed = await ProduceAtRateAsync(events, async (_, committing) =>
        {
            var id = Guid.NewGuid();
            await using var connection = await database.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // SQL: pg_notify is the baseline being measured; notifications have no LINQ form.
            await using (var notify = new NpgsqlCommand($"select pg_notify('{BaselineChannel}', @id)", connection, transaction))
            {
                notify.Parameters.AddWithValue("id", id.ToString());
                await notify.ExecuteNonQueryAsync(cancellationToken);
            }

            committing(id);
            await transaction.CommitAsync(cancellationToken);
        }, cancellationToken);

        var deadline = Stopwatch.StartNew();
        while (arrivals.Count < committed.Count && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10, cancellationToken);
        }

        await stop.CancelAsync();
        await listening;
        return Latencies.Of(committed, arrivals);
    }

    /// <summary>
    /// Runs <paramref name="events"/> commits on a fixed schedule from <see cref="Producers"/> concurrent producers; each call prepares
    /// one transaction and calls <c>committing(id)</c> just before its COMMIT, where the clock starts.
    /// </summary>
    private static async Task<ConcurrentDictionary<Guid, long>> ProduceAtRateAsync(
        int events, Func<int, Action<Guid>, Task> commitOne, CancellationToken cancellationToken)
    {
        var committing = new ConcurrentDictionary<Guid, long>();
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Producers).Select(async producer =>
        {
            for (var index = producer; index < events; index += Producers)
            {
                var due = TimeSpan.FromSeconds((double)index / Rate) - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken);
                }

                await commitOne(index, id => committing[id] = Stopwatch.GetTimestamp());
            }
        }));
        return committing;
    }

    /// <param name="CommittedPerSecond">The rate the producers achieved, from the first commit to the last.</param>
    private sealed record Latencies(double P50, double P99, int Delivered, double CommittedPerSecond)
    {
        public static Latencies Of(ConcurrentDictionary<Guid, long> committing, ConcurrentDictionary<Guid, long> arrivals)
        {
            var sorted = arrivals
                .Where(arrival => committing.ContainsKey(arrival.Key))
                .Select(arrival => Stopwatch.GetElapsedTime(committing[arrival.Key], arrival.Value).TotalMilliseconds)
                .Order()
                .ToList();
            var span = committing.IsEmpty ? TimeSpan.Zero : Stopwatch.GetElapsedTime(committing.Values.Min(), committing.Values.Max());
            var perSecond = span > TimeSpan.Zero ? (committing.Count - 1) / span.TotalSeconds : double.NaN;
            return new Latencies(Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Count, perSecond);
        }

        private static double Percentile(List<double> sorted, double fraction) =>
            sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
    }

    [IntegrationEvent("bench.watch-probed")]
    private sealed record WatchProbed(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, int Sequence) : IntegrationEvent(Id, TenantId, OccurredAt);
}
