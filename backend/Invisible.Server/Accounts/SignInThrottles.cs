using Dapper;
using Invisible.Identity.Passwords;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Server.Accounts;

/// <summary>
/// Persists <see cref="SignInThrottle"/> states per e-mail address and per source address (table <c>sign_in_throttles</c>).
/// Throttling by e-mail address rather than by user means unknown addresses lock exactly like real ones, so the lockout
/// reveals nothing about which accounts exist.
/// </summary>
public sealed class SignInThrottles(NpgsqlDataSource dataSource, IOptions<AccountsOptions> options, TimeProvider time)
{
    private readonly SignInThrottle _perAccount = new(options.Value.AccountMaxFailures, options.Value.FailureWindow, options.Value.BackOff, options.Value.MaxBackOff);
    private readonly SignInThrottle _perAddress = new(options.Value.AddressMaxFailures, options.Value.FailureWindow, options.Value.BackOff, options.Value.MaxBackOff);

    /// <summary>How long the caller must wait before this attempt may be checked; null when it may be checked now.</summary>
    public async Task<TimeSpan?> RetryAfterAsync(string email, string address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var account = SignInThrottle.RetryAfter(await ReadAsync(AccountKey(email), cancellationToken), now);
        var source = SignInThrottle.RetryAfter(await ReadAsync(AddressKey(address), cancellationToken), now);
        return account > source || source is null ? account : source;
    }

    public async Task RecordFailureAsync(string email, string address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await WriteAsync(AccountKey(email), _perAccount.RecordFailure(await ReadAsync(AccountKey(email), cancellationToken), now), cancellationToken);
        await WriteAsync(AddressKey(address), _perAddress.RecordFailure(await ReadAsync(AddressKey(address), cancellationToken), now), cancellationToken);
    }

    /// <summary>Clears the account's failures; the address keeps its count, as one success says nothing about other accounts tried from it.</summary>
    public Task RecordSuccessAsync(string email, CancellationToken cancellationToken) =>
        WriteAsync(AccountKey(email), SignInThrottle.RecordSuccess(), cancellationToken);

    private static string AccountKey(string email) => "account:" + email.Trim().ToLowerInvariant();

    private static string AddressKey(string address) => "address:" + address;

    private async Task<ThrottleState> ReadAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ThrottleRow>(new CommandDefinition(
            "select failures as Failures, window_started_at as WindowStartedAt, locked_until as LockedUntil from sign_in_throttles where key = @key",
            new { key }, cancellationToken: cancellationToken));
        return row is null ? ThrottleState.Clear : new ThrottleState(row.Failures, Utc(row.WindowStartedAt), Utc(row.LockedUntil));
    }

    private static DateTimeOffset? Utc(DateTime? value) => value is { } utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;

    private sealed record ThrottleRow(int Failures, DateTime? WindowStartedAt, DateTime? LockedUntil);

    private async Task WriteAsync(string key, ThrottleState state, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into sign_in_throttles (key, failures, window_started_at, locked_until, updated_at)
            values (@key, @failures, @windowStartedAt, @lockedUntil, now())
            on conflict (key) do update
                set failures = excluded.failures, window_started_at = excluded.window_started_at,
                    locked_until = excluded.locked_until, updated_at = now()
            """,
            new { key, failures = state.Failures, windowStartedAt = state.WindowStartedAt, lockedUntil = state.LockedUntil },
            cancellationToken: cancellationToken));
    }
}
