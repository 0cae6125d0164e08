using System.Collections.Concurrent;
using System.Diagnostics;
using Invisible.Data.Tenancy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Invisible.Platform.Events;

/// <param name="Delivered">Events that reached the subscriber before the probe's deadline.</param>
/// <param name="CommittedPerSecond">The rate the producers achieved (at most the offered rate; less on a busy machine).</param>
/// <param name="DeliveredPerSecond">Delivered events over the time from the first commit to the last delivery.</param>
/// <param name="P50Milliseconds">Median latency from commit to subscriber.</param>
public sealed record EventLatencyReport(
    int Events, int Delivered, double OfferedPerSecond, double CommittedPerSecond, double DeliveredPerSecond, double P50Milliseconds, double P99Milliseconds, double MaxMilliseconds);

/// <summary>How fast a dispatcher empties an outbox that already holds <paramref name="Events"/> due events.</summary>
public sealed record EventDrainReport(int Events, int Delivered, double DeliveredPerSecond);

/// <summary>
/// Measures embedded mode's event path end to end for <c>./invisible bench events</c>: producers commit events at a
/// fixed rate, each in its own tenant transaction through <see cref="EventOutbox"/>; a real <see cref="OutboxDispatcher"/>
/// (LISTEN/NOTIFY) delivers them through the inbox to an in-process subscriber, which notes the arrival time.
/// Latency runs from just before the producer's COMMIT to the subscriber's call.
/// </summary>
public static class EventLatencyProbe
{
    /// <summary>Enough producers that the schedule, not each producer's one-commit-at-a-time round trips, sets the rate.</summary>
    private const int Producers = 16;

    public static async Task<EventLatencyReport> MeasureAsync(
        NpgsqlDataSource appDataSource, Guid tenantId, int events, int eventsPerSecond, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(events);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eventsPerSecond);
        using var arrivals = new ProbeArrivals();
        await using var provider = BuildServices(appDataSource, arrivals, loggers);

        var tenants = provider.GetRequiredService<TenantDatabase>();
        var dispatcher = provider.GetRequiredService<OutboxDispatcher>();
        await dispatcher.StartAsync(cancellationToken);
        var committing = new ConcurrentDictionary<Guid, long>();
        var started = Stopwatch.GetTimestamp();
        var allCommitted = started;
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Producers).Select(producer =>
                ProduceAsync(tenants, tenantId, producer, events, eventsPerSecond, started, committing, cancellationToken)));
            allCommitted = Stopwatch.GetTimestamp();

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            await arrivals.WaitForAsync(events, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The deadline passed: report what arrived.
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }

        var latencies = arrivals.Times
            .Where(arrival => committing.ContainsKey(arrival.Key))
            .Select(arrival => Stopwatch.GetElapsedTime(committing[arrival.Key], arrival.Value).TotalMilliseconds)
            .Order()
            .ToList();
        var lastArrival = arrivals.Times.Values.DefaultIfEmpty(started).Max();
        var elapsedSeconds = Stopwatch.GetElapsedTime(started, lastArrival).TotalSeconds;
        var committingSeconds = Stopwatch.GetElapsedTime(started, allCommitted).TotalSeconds;
        return new EventLatencyReport(
            events,
            latencies.Count,
            eventsPerSecond,
            committingSeconds > 0 ? committing.Count / committingSeconds : 0,
            elapsedSeconds > 0 ? latencies.Count / elapsedSeconds : 0,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99),
            latencies.DefaultIfEmpty(0).Max());
    }

    /// <summary>
    /// Commits <paramref name="events"/> events first (100 per transaction), then starts a dispatcher and times it until
    /// the subscriber has them all: the dispatcher's own capacity, whatever rate producers manage on the machine.
    /// </summary>
    public static async Task<EventDrainReport> MeasureDrainAsync(
        NpgsqlDataSource appDataSource, Guid tenantId, int events, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(events);
        using var arrivals = new ProbeArrivals();
        await using var provider = BuildServices(appDataSource, arrivals, loggers);
        var tenants = provider.GetRequiredService<TenantDatabase>();
        for (var first = 0; first < events; first += 100)
        {
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            for (var index = first; index < Math.Min(first + 100, events); index++)
            {
                await EventOutbox.EnqueueAsync(unitOfWork, new LatencyProbed(Guid.NewGuid(), tenantId, DateTimeOffset.UtcNow, index), cancellationToken);
            }

            await unitOfWork.CommitAsync(cancellationToken);
        }

        var dispatcher = provider.GetRequiredService<OutboxDispatcher>();
        var started = Stopwatch.GetTimestamp();
        await dispatcher.StartAsync(cancellationToken);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(60));
            await arrivals.WaitForAsync(events, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The deadline passed: report what arrived.
        }
        finally
        {
            await dispatcher.StopAsync(CancellationToken.None);
        }

        var delivered = arrivals.Times.Count;
        var elapsedSeconds = Stopwatch.GetElapsedTime(started, arrivals.Times.Values.DefaultIfEmpty(started).Max()).TotalSeconds;
        return new EventDrainReport(events, delivered, elapsedSeconds > 0 ? delivered / elapsedSeconds : 0);
    }

    private static ServiceProvider BuildServices(NpgsqlDataSource appDataSource, ProbeArrivals arrivals, ILoggerFactory loggers)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Runtime:Mode"] = nameof(RuntimeMode.Embedded),
            ["Events:PollInterval"] = "00:00:01",
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton(loggers)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddSingleton(appDataSource)
            .AddSingleton(arrivals);
        services.AddPlatform(configuration);
        services.AddIntegrationEventHandler<LatencyProbed, LatencyProbeHandler>();
        return services.BuildServiceProvider();
    }

    private static async Task ProduceAsync(
        TenantDatabase tenants, Guid tenantId, int producer, int events, int eventsPerSecond, long started,
        ConcurrentDictionary<Guid, long> committing, CancellationToken cancellationToken)
    {
        // Producer p sends events p, p + Producers, …, each at its slot on the common schedule.
        for (var index = producer; index < events; index += Producers)
        {
            var due = TimeSpan.FromSeconds((double)index / eventsPerSecond) - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            var probe = new LatencyProbed(Guid.NewGuid(), tenantId, DateTimeOffset.UtcNow, index);
            await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
            await EventOutbox.EnqueueAsync(unitOfWork, probe, cancellationToken);
            committing[probe.Id] = Stopwatch.GetTimestamp();
            await unitOfWork.CommitAsync(cancellationToken);
        }
    }

    private static double Percentile(List<double> sorted, double fraction) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];

    [IntegrationEvent("bench-latency-probed")]
    private sealed record LatencyProbed(Guid Id, Guid TenantId, DateTimeOffset OccurredAt, int Sequence) : IntegrationEvent(Id, TenantId, OccurredAt);

    private sealed class LatencyProbeHandler(ProbeArrivals arrivals) : IIntegrationEventHandler<LatencyProbed>
    {
        public Task HandleAsync(LatencyProbed integrationEvent, EventHandlingContext context, CancellationToken cancellationToken)
        {
            arrivals.Arrived(integrationEvent.Id);
            return Task.CompletedTask;
        }
    }

    private sealed class ProbeArrivals : IDisposable
    {
        private readonly ConcurrentDictionary<Guid, long> _times = new();
        private readonly SemaphoreSlim _arrived = new(0);

        public IReadOnlyDictionary<Guid, long> Times => _times;

        public void Arrived(Guid id)
        {
            if (_times.TryAdd(id, Stopwatch.GetTimestamp()))
            {
                _arrived.Release();
            }
        }

        public void Dispose() => _arrived.Dispose();

        public async Task WaitForAsync(int count, CancellationToken cancellationToken)
        {
            for (var i = 0; i < count; i++)
            {
                await _arrived.WaitAsync(cancellationToken);
            }
        }
    }
}
