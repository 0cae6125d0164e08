namespace Invisible.Cli.Commands;

/// <summary>
/// Reports on the caller's thread, in order: the progress display is updated as the work reports, where
/// <see cref="Progress{T}"/> would post each report to the thread pool.
/// </summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
