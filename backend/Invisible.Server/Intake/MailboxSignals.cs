using System.Collections.Concurrent;

namespace Invisible.Server.Intake;

/// <summary>
/// Tells this process's polling that an admin changed a tenant's mailbox (connected, changed, disconnected), so the watch
/// of that mailbox leaves its IDLE and re-reads its row, and the polling notices a new mailbox without waiting for its next
/// round. In-process only: another process running the polling notices the change at its next IDLE re-issue or round.
/// </summary>
public sealed class MailboxSignals : IDisposable
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _byTenant = new();
    private CancellationTokenSource _any = new();

    /// <summary>Cancelled at the next change of the tenant's mailbox.</summary>
    public CancellationToken ChangedToken(Guid tenantId) => _byTenant.GetOrAdd(tenantId, _ => new CancellationTokenSource()).Token;

    /// <summary>Cancelled at the next change of any tenant's mailbox.</summary>
    public CancellationToken AnyChangedToken() => Volatile.Read(ref _any).Token;

    public void Changed(Guid tenantId)
    {
        if (_byTenant.TryRemove(tenantId, out var tenant))
        {
            tenant.Cancel();
        }

        var any = Interlocked.Exchange(ref _any, new CancellationTokenSource());
        any.Cancel();
    }

    public void Dispose()
    {
        _any.Dispose();
        foreach (var tenant in _byTenant.Values)
        {
            tenant.Dispose();
        }
    }
}
