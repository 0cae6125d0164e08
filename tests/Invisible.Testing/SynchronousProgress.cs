namespace Invisible.Testing;

/// <summary>
/// Reports on the caller's thread, in order, at the moment of the call; <see cref="Progress{T}"/> posts to the thread pool,
/// so a test could neither see the reports in order nor act exactly when one is made.
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
