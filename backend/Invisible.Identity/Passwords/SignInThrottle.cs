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
        var doublings = Math.Min(failures - maxFailures, 10);
        var lockFor = TimeSpan.FromTicks(Math.Min(_backOff.Ticks << doublings, _maxBackOff.Ticks));
        return new ThrottleState(failures, windowStart, now + lockFor);
    }

    public static ThrottleState RecordSuccess() => ThrottleState.Clear;
}
