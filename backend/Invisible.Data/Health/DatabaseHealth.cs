using Invisible.Data.Migrations;
using Npgsql;

namespace Invisible.Data.Health;

/// <param name="IsReachable">A connection could be opened and queried within the timeout.</param>
/// <param name="PendingMigrations">File names of migrations of this build not applied yet (empty when current or unreachable).</param>
/// <param name="Problem">Why the database is unreachable; null when reachable.</param>
public sealed record DatabaseHealthReport(bool IsReachable, IReadOnlyList<string> PendingMigrations, string? Problem)
{
    public bool IsHealthy => IsReachable && PendingMigrations.Count == 0;
}

/// <summary>
/// Readiness of the database for <c>/readyz</c>: reachable, and migrations current. Each check uses a fresh physical
/// connection (no pooling) with short timeouts, so a stopped-then-restarted server is seen as healthy again at once,
/// without any broken pooled connection in between.
/// </summary>
public sealed class DatabaseHealth
{
    private readonly string probeConnectionString;
    private readonly DatabaseMigrator migrator;
    private readonly TimeSpan timeout;

    public DatabaseHealth(string connectionString, DatabaseMigrator migrator, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(migrator);
        this.migrator = migrator;
        this.timeout = timeout ?? TimeSpan.FromSeconds(3);
        var seconds = Math.Max(1, (int)Math.Ceiling(this.timeout.TotalSeconds));
        probeConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            Timeout = seconds,
            CommandTimeout = seconds,
        }.ConnectionString;
    }

    public async Task<DatabaseHealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await using var connection = new NpgsqlConnection(probeConnectionString);
            await connection.OpenAsync(deadline.Token);
            var pending = await migrator.GetPendingAsync(connection, deadline.Token);
            return new DatabaseHealthReport(true, pending.Select(migration => migration.FileName).ToList(), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DatabaseHealthReport(false, [], $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (Exception exception) when (exception is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return new DatabaseHealthReport(false, [], exception.Message);
        }
    }
}
