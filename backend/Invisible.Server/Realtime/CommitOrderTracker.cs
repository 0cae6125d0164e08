namespace Invisible.Server.Realtime;

/// <summary>
/// Reading a table in position order while others commit: positions are taken at INSERT but become visible at COMMIT,
/// so a reader can see 12 before 11. The tracker keeps the settled mark (every position at or below it was sent, or will
/// never exist) and the positions already sent above it. A hole is waited for until it has been open for the timeout;
/// after that it is taken for a rolled-back insert, which leaves a permanent gap in an identity sequence.
/// </summary>
public sealed class CommitOrderTracker(long settled, TimeSpan gapTimeout)
{
    private readonly SortedSet<long> _sentAboveSettled = [];
    private long? _holeSeenAt;

    /// <summary>Every position at or below this has been sent, or is given up.</summary>
    public long Settled { get; private set; } = settled;

    public IReadOnlyCollection<long> SentAboveSettled => _sentAboveSettled;

    /// <summary>True the first time a position above the settled mark is offered: send it then.</summary>
    public bool TryMarkSent(long position) => position > Settled && _sentAboveSettled.Add(position);

    /// <summary>Moves the settled mark over what has been sent, and over a hole that stayed open past the timeout.</summary>
    /// <param name="now">A <see cref="TimeProvider.GetTimestamp"/> reading.</param>
    public void Advance(long now, TimeProvider time)
    {
        while (_sentAboveSettled.Count > 0)
        {
            var next = _sentAboveSettled.Min;
            if (next == Settled + 1)
            {
                _sentAboveSettled.Remove(next);
                Settled = next;
                _holeSeenAt = null;
                continue;
            }

            _holeSeenAt ??= now;
            if (time.GetElapsedTime(_holeSeenAt.Value, now) < gapTimeout)
            {
                return;
            }

            Settled = next - 1;
            _holeSeenAt = null;
        }
    }
}
