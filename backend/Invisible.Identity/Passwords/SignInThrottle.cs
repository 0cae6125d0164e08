namespace Invisible.Identity.Passwords;

/// <param name="Failures">Consecutive failed attempts in the current window.</param>
/// <param name="WindowStartedAt">When the first of those failures happened.</param>
/// <param name="LockedUntil">Attempts before this instant are refused without checking the password.</param>
public sealed record ThrottleState(int Failures, DateTimeOffset? WindowStartedAt, DateTimeOffset? LockedUntil)
{
    public static readonly ThrottleState Clear = new(0, null, null);
}

/// <summary>
/// Lockout with back-off, applied per account and per source address (each keeps its own <see cref="ThrottleState"/>):
/// ten failures within the window lock for the back-off, which doubles with each further lock up to a ceiling. While
/// locked, attempts are refused without verifying the password, so guessing costs the attacker time and us no hashing.
/// </summary>
public sealed class SignInThrottle(int maxFailures = 10, TimeSpan? window = null, TimeSpan? backOff = null, TimeSpan? maxBackOff = null)
{
    private readonly TimeSpan _window = window ?? TimeSpan.FromMinutes(15);
    private readonly TimeSpan _backOff = backOff ?? TimeSpan.FromMinutes(5);
    private readonly TimeSpan _maxBackOff = maxBackOff ?? TimeSpan.FromHours(1);

    public int MaxFailures => maxFailures;

    public TimeSpan Window => _window;

    /// <summary>
    /// The lock after the n-th failure past the limit (index 0 for the failure that reaches it), ending with the ceiling.
    /// The store counts in one SQL statement and picks from this table, so the back-off policy stays here.
    /// </summary>
    public IReadOnlyList<TimeSpan> LockDurations => Enumerable.Range(0, MaxDoublings + 1).Select(LockFor).ToArray();

    private const int MaxDoublings = 10;

    /// <summary>Null when an attempt may be checked now; otherwise how long the caller must wait.</summary>
    public static TimeSpan? RetryAfter(ThrottleState state, DateTimeOffset now) =>
        state.LockedUntil is { } until && until > now ? until - now : null;

    public ThrottleState RecordFailure(ThrottleState state, DateTimeOffset now)
    {
        var inWindow = state.WindowStartedAt is { } started && now - started <= _window;
        var failures = inWindow ? state.Failures + 1 : 1;
        var windowStart = inWindow ? state.WindowStartedAt : now;
        if (failures < maxFailures)
        {
            return new ThrottleState(failures, windowStart, state.LockedUntil);
        }

        // Every further failure past the limit locks again, longer each time.
        return new ThrottleState(failures, windowStart, now + LockFor(failures - maxFailures));
    }

    private TimeSpan LockFor(int pastLimit) => TimeSpan.FromTicks(Math.Min(_backOff.Ticks << Math.Min(pastLimit, MaxDoublings), _maxBackOff.Ticks));

    public static ThrottleState RecordSuccess() => ThrottleState.Clear;
}
