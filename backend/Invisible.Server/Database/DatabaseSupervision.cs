namespace Invisible.Server.Database;

/// <summary>
/// What the supervisor knows about the embedded cluster, for <c>/healthz</c> (live but degraded) and readiness. It is in memory
/// and never probes anything, so <c>/healthz</c> stays cheap and answers while the database is down.
/// </summary>
public sealed class DatabaseSupervision
{
    private readonly Lock gate = new();
    private bool restarting;
    private int attempts;
    private string? lastFailure;

    /// <summary>True from the moment the supervisor saw the cluster die until it is back and the connection pools are cleared.</summary>
    public bool IsRestarting
    {
        get
        {
            lock (gate)
            {
                return restarting;
            }
        }
    }

    public (bool Restarting, int Attempts, string? LastFailure) Snapshot()
    {
        lock (gate)
        {
            return (restarting, attempts, lastFailure);
        }
    }

    internal void MarkRestarting()
    {
        lock (gate)
        {
            restarting = true;
            attempts = 0;
            lastFailure = null;
        }
    }

    internal void RecordAttempt(string? failure)
    {
        lock (gate)
        {
            attempts++;
            lastFailure = failure;
        }
    }

    internal void MarkRunning()
    {
        lock (gate)
        {
            restarting = false;
            lastFailure = null;
        }
    }
}
