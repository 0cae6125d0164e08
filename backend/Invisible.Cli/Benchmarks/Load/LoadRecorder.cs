using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;

namespace Invisible.Cli.Benchmarks.Load;

/// <summary>One call type's figures over the measured window.</summary>
/// <param name="Interactive">A call a clerk waits for on screen: the latency targets apply to it.</param>
/// <param name="Requests">Calls made while measuring (the figures are theirs).</param>
/// <param name="Attempts">Calls made in all, warm-up and the rounds finished after the stop included.</param>
/// <param name="FirstError">The first failure's status and message, so a failing run says why.</param>
internal sealed record CallFigures(
    string Call, bool Interactive, int Requests, double RequestsPerSecond, double P50Ms, double P95Ms, double P99Ms, int Errors, string? FirstError, int Attempts);

/// <summary>
/// Latencies and failures per call type, counted only while <see cref="Measuring"/> (after the warm-up, before the stop),
/// so that JIT tiering, cold pools and the last in-flight calls do not decide the figures.
/// </summary>
internal sealed class LoadRecorder
{
    private readonly ConcurrentDictionary<string, Entry> _calls = new(StringComparer.Ordinal);
    private long _measureStarted;
    private long _measureStopped;

    public bool Measuring { get; private set; }

    public void StartMeasuring()
    {
        _measureStarted = Stopwatch.GetTimestamp();
        Measuring = true;
    }

    public void StopMeasuring()
    {
        Measuring = false;
        _measureStopped = Stopwatch.GetTimestamp();
    }

    public double MeasuredSeconds => Stopwatch.GetElapsedTime(_measureStarted, _measureStopped == 0 ? Stopwatch.GetTimestamp() : _measureStopped).TotalSeconds;

    /// <summary>Runs and times one call; a failure is counted (with its status) and answers default, never thrown.</summary>
    public async Task<T?> CallAsync<T>(string call, bool interactive, Func<Task<T>> send) where T : class
    {
        var entry = _calls.GetOrAdd(call, _ => new Entry(interactive));
        Interlocked.Increment(ref entry.Attempts);
        var measured = Measuring;
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await send();
            if (measured)
            {
                entry.Latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            return result;
        }
        catch (Exception exception) when (exception is RpcException or IOException or HttpRequestException or InvalidOperationException or MailKit.CommandException or MailKit.ProtocolException)
        {
            if (measured)
            {
                entry.Latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Interlocked.Increment(ref entry.Errors);
                entry.FirstError ??= exception is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : $"{exception.GetType().Name}: {exception.Message}";
            }

            return null;
        }
    }

    /// <summary>A failure seen outside a timed call (e.g. a Watch stream that ended), counted against <paramref name="call"/>.</summary>
    public void Fail(string call, bool interactive, string error)
    {
        var entry = _calls.GetOrAdd(call, _ => new Entry(interactive));
        Interlocked.Increment(ref entry.Errors);
        entry.FirstError ??= error;
    }

    /// <summary>Makes a call type appear in the report even when no call of it was made (then with 0 requests).</summary>
    public void Declare(string call, bool interactive) => _calls.GetOrAdd(call, _ => new Entry(interactive));

    public IReadOnlyList<CallFigures> Figures()
    {
        var seconds = Math.Max(0.001, MeasuredSeconds);
        return _calls.OrderBy(pair => pair.Value.Interactive ? 0 : 1).ThenBy(pair => pair.Key, StringComparer.Ordinal).Select(pair =>
        {
            var sorted = pair.Value.Latencies.Order().ToArray();
            return new CallFigures(
                pair.Key, pair.Value.Interactive, sorted.Length, sorted.Length / seconds,
                Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99), pair.Value.Errors, pair.Value.FirstError, pair.Value.Attempts);
        }).ToList();
    }

    public static double Percentile(IReadOnlyList<double> sorted, double fraction) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Count) - 1, 0, sorted.Count - 1)];

    private sealed class Entry(bool interactive)
    {
        public bool Interactive { get; } = interactive;

        public ConcurrentBag<double> Latencies { get; } = [];

#pragma warning disable SA1401 // Interlocked needs a field
        public int Errors;

        public int Attempts;
#pragma warning restore SA1401

        public string? FirstError { get; set; }
    }
}
