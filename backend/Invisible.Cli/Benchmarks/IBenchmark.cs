using Invisible.Server.Hosting;

namespace Invisible.Cli.Benchmarks;

/// <summary>
/// A named benchmark run by <c>./invisible bench [NAME]</c>. Every figure it reports should come with a
/// baseline measured in the same run, so the ratio means something on whatever machine runs it.
/// </summary>
public interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    Task<IReadOnlyList<BenchmarkFigure>> RunAsync(BenchmarkContext context, CancellationToken cancellationToken);
}

/// <param name="Figure">What was measured, e.g. "unary h2c, 16 streams: requests/s".</param>
/// <param name="Value">The measured value.</param>
/// <param name="Unit">e.g. "req/s", "ms", "MB".</param>
/// <param name="Baseline">The same figure for the baseline measured in the same run, when there is one.</param>
/// <param name="Target">The target as a person reads it, e.g. "≥ 0.6× baseline" or "< 5 ms".</param>
/// <param name="Met">Whether the target was met, when there is a target.</param>
public sealed record BenchmarkFigure(string Figure, double Value, string Unit, double? Baseline = null, string? Target = null, bool? Met = null)
{
    public double? Ratio => Baseline is > 0 ? Value / Baseline : null;
}

/// <param name="WorkDirectory">A scratch directory for this run (deleted afterwards by the runner).</param>
/// <param name="Report">Progress lines for the person watching.</param>
public sealed record BenchmarkContext(string WorkDirectory, Action<string> Report)
{
    /// <summary>How much of a benchmarked product's log reaches the terminal (the verb's --verbose); the rest goes to the log file in the work directory, and is deleted with it.</summary>
    public ProductLoggingOptions Logging { get; init; } = ProductLoggingOptions.Default;

    /// <summary>The verb's --messages: how many messages a mail benchmark sends (its own default when null).</summary>
    public int? Messages { get; init; }

    /// <summary>The verb's --replicas: how many api and worker processes a scale-out benchmark runs (1 when null).</summary>
    public int? Replicas { get; init; }
}
