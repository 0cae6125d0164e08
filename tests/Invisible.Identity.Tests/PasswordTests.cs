using Invisible.Identity.Passwords;

namespace Invisible.Identity.Tests;

public sealed class PasswordTests
{
    [Fact]
    public void A_long_uncommon_passphrase_is_accepted()
    {
        Assert.Empty(PasswordPolicy.Check("violet tractor harbour 42", "ana@acme.example"));
    }

    [Theory]
    [InlineData("short1!")]
    [InlineData("elevenchars")]
    [InlineData(null)]
    public void Fewer_than_twelve_characters_are_refused(string? password)
    {
        Assert.Contains(PasswordPolicy.Check(password, null), problem => problem.Contains("at least 12", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Password1234")]
    [InlineData("password1234!")]
    [InlineData("qwertyuiop123")]
    [InlineData("Welcome2026!!")]
    public void Common_passwords_and_their_usual_suffixes_are_refused(string password)
    {
        Assert.Contains(PasswordPolicy.Check(password, null), problem => problem.Contains("commonly used", StringComparison.Ordinal));
    }

    [Fact]
    public void The_accounts_own_email_is_refused()
    {
        Assert.Contains(PasswordPolicy.Check("ana.lopez@acme.example", "Ana.Lopez@acme.example"), problem => problem.Contains("e-mail", StringComparison.Ordinal));
    }

    [Fact]
    public void More_than_128_characters_are_refused()
    {
        Assert.Contains(PasswordPolicy.Check(new string('x', 129) + "unusual", null), problem => problem.Contains("at most 128", StringComparison.Ordinal));
    }
}

public sealed class SignInThrottleTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_eleventh_attempt_within_the_window_is_refused_without_checking_and_the_account_recovers_after_the_back_off()
    {
        var throttle = new SignInThrottle(maxFailures: 10, window: TimeSpan.FromMinutes(15), backOff: TimeSpan.FromMinutes(5));
        var state = ThrottleState.Clear;
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            var now = Start.AddSeconds(attempt * 10);
            Assert.Null(SignInThrottle.RetryAfter(state, now));
            state = throttle.RecordFailure(state, now);
        }

        var eleventh = Start.AddSeconds(110);
        Assert.Equal(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(10), SignInThrottle.RetryAfter(state, eleventh));
        Assert.Null(SignInThrottle.RetryAfter(state, Start.AddSeconds(100) + TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Failures_spread_beyond_the_window_never_lock()
    {
        var throttle = new SignInThrottle(maxFailures: 10, window: TimeSpan.FromMinutes(15));
        var state = ThrottleState.Clear;
        for (var attempt = 0; attempt < 30; attempt++)
        {
            state = throttle.RecordFailure(state, Start.AddMinutes(attempt * 2));
        }

        Assert.Null(SignInThrottle.RetryAfter(state, Start.AddMinutes(60)));
    }

    [Fact]
    public void Each_further_failure_after_a_lock_doubles_the_back_off_up_to_the_ceiling()
    {
        var throttle = new SignInThrottle(maxFailures: 3, window: TimeSpan.FromHours(10), backOff: TimeSpan.FromMinutes(5), maxBackOff: TimeSpan.FromMinutes(30));
        var state = ThrottleState.Clear;
        var locks = new List<TimeSpan>();
        for (var attempt = 0; attempt < 7; attempt++)
        {
            var now = Start.AddHours(attempt);
            state = throttle.RecordFailure(state, now);
            if (state.LockedUntil is { } until && until > now)
            {
                locks.Add(until - now);
            }
        }

        Assert.Equal([TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(30)], locks);
    }

    [Fact]
    public void A_success_clears_the_count()
    {
        Assert.Equal(ThrottleState.Clear, SignInThrottle.RecordSuccess());
    }
}
