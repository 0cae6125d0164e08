using Invisible.Server.Realtime;

namespace Invisible.Server.Tests.Realtime;

public sealed class CommitOrderTrackerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly ManualTime _time = new();

    [Fact]
    public void Positions_sent_in_order_settle_at_once()
    {
        var tracker = new CommitOrderTracker(10, Timeout);

        Assert.True(tracker.TryMarkSent(11));
        Assert.True(tracker.TryMarkSent(12));
        tracker.Advance(_time.GetTimestamp(), _time);

        Assert.Equal(12, tracker.Settled);
        Assert.Empty(tracker.SentAboveSettled);
    }

    [Fact]
    public void A_position_seen_before_a_lower_one_waits_for_it_and_neither_is_sent_twice()
    {
        var tracker = new CommitOrderTracker(10, Timeout);

        Assert.True(tracker.TryMarkSent(12));
        tracker.Advance(_time.GetTimestamp(), _time);
        Assert.Equal(10, tracker.Settled);
        Assert.False(tracker.TryMarkSent(12));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(tracker.TryMarkSent(11));
        tracker.Advance(_time.GetTimestamp(), _time);

        Assert.Equal(12, tracker.Settled);
        Assert.False(tracker.TryMarkSent(11));
    }

    [Fact]
    public void A_hole_open_past_the_timeout_counts_as_rolled_back()
    {
        var tracker = new CommitOrderTracker(10, Timeout);
        tracker.TryMarkSent(12);
        tracker.Advance(_time.GetTimestamp(), _time);

        _time.Advance(Timeout - TimeSpan.FromSeconds(1));
        tracker.Advance(_time.GetTimestamp(), _time);
        Assert.Equal(10, tracker.Settled);

        _time.Advance(TimeSpan.FromSeconds(2));
        tracker.Advance(_time.GetTimestamp(), _time);
        Assert.Equal(12, tracker.Settled);
        Assert.False(tracker.TryMarkSent(11));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
