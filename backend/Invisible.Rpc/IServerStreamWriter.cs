namespace Invisible.Rpc;

/// <summary>
/// The response stream of a server-streaming call. Each message is flushed to the client as it is written.
/// Not thread-safe: write one message at a time.
/// </summary>
public interface IServerStreamWriter<in TResponse>
{
    Task WriteAsync(TResponse message, CancellationToken cancellationToken = default);
}
