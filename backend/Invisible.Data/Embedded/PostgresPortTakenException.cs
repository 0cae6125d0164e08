namespace Invisible.Data.Embedded;

/// <summary>
/// The embedded cluster cannot come back on its port because another process listens there. The port cannot simply change:
/// the product's connection strings, built at start-up, name it.
/// </summary>
public sealed class PostgresPortTakenException(int port, string clusterDirectory) : InvalidOperationException(
    $"Port {port} on 127.0.0.1 is taken by another process, so PostgreSQL for {clusterDirectory} cannot come back on it; " +
    $"free the port (e.g. `ss -ltnp 'sport = :{port}'` shows who holds it) or restart the product to move to a new one.")
{
    public int Port { get; } = port;
}
