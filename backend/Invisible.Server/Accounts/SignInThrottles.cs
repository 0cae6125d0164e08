using Invisible.Data.Access;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Invisible.Server.FieldEncryption;
using Invisible.Identity.Passwords;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Server.Accounts;

/// <summary>
/// Persists <see cref="SignInThrottle"/> states per e-mail address and per source address (table <c>sign_in_throttles</c>).
/// The account key is the blind index of the address, so the table holds no address in the clear (issue #20).
/// Throttling by e-mail address rather than by user means unknown addresses lock exactly like real ones, so the lockout
/// reveals nothing about which accounts exist.
/// </summary>
/// <remarks>
/// An attempt is counted as a failure before its secret is checked, in the same statement that checks the lock
/// (<see cref="BeginAttemptAsync"/>), and given back when it succeeds. Checking and counting in separate round trips let
/// parallel guesses all pass the check before any of them was counted; with the row lock of the upsert, the n-th
/// concurrent attempt sees the n-1 before it, so no more than the limit are ever checked before the lock.
/// </remarks>
public sealed class SignInThrottles(NpgsqlDataSource dataSource, IOptions<AccountsOptions> options, TimeProvider time, PersonalDataKeys personalDataKeys)
{
    private readonly SignInThrottle _perAccount = new(options.Value.AccountMaxFailures, options.Value.FailureWindow, options.Value.BackOff, options.Value.MaxBackOff);
    private readonly SignInThrottle _perAddress = new(options.Value.AddressMaxFailures, options.Value.FailureWindow, options.Value.BackOff, options.Value.MaxBackOff);

    // The limit of the row being updated: account rows and address rows have their own.
    private const string Limit = "(case when t.key like 'account:%' then @accountMax else @addressMax end)";
    private const string InWindow = "(t.window_started_at is not null and @now - t.window_started_at <= @window)";
    private const string Next = $"(case when {InWindow} then t.failures + 1 else 1 end)";

    /// <summary>
    /// Counts this attempt as a failure of the account and of the address unless either is locked. Null when the attempt
    /// may be checked now (report <see cref="RecordSuccessAsync"/> if it succeeds, nothing if it fails); otherwise how long
    /// the caller must wait, and nothing was counted.
    /// </summary>
    public async Task<TimeSpan?> BeginAttemptAsync(string email, string address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var keys = new Keys(await AccountKeyAsync(email, cancellationToken), AddressKey(address));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // Mirrors SignInThrottle.RecordFailure. The where of "do update" is evaluated on the row as locked (the latest
        // version), which is what makes concurrent attempts count one after another. Account before address in every
        // statement, so two attempts never wait on each other's rows crosswise.
        // SQL: insert ... on conflict do update of both keys in one statement (a set-based upsert).
        var counted = (await db.QueryToListAsync<string>(
            $"""
            insert into sign_in_throttles as t (key, failures, window_started_at, locked_until, updated_at)
            select k.key, 1, @now, case when k.max <= 1 then @now + (@lockFor)[1] end, now()
            from (values (1, @accountKey, @accountMax), (2, @addressKey, @addressMax)) as k(ord, key, max)
            where not exists (select 1 from sign_in_throttles l where l.key in (@accountKey, @addressKey) and l.locked_until > @now)
            order by k.ord
            on conflict (key) do update set
                failures = {Next},
                window_started_at = case when {InWindow} then t.window_started_at else @now end,
                locked_until = case when {Next} >= {Limit} then @now + (@lockFor)[least({Next} - {Limit}, {_perAccount.LockDurations.Count - 1}) + 1]
                                    else t.locked_until end,
                updated_at = now()
            where t.locked_until is null or t.locked_until <= @now
            returning t.key
            """, Parameters(keys, now), cancellationToken)).ToHashSet(StringComparer.Ordinal);
        if (counted.Count == 2)
        {
            return null;
        }

        // One of the two was locked by a concurrent attempt after this statement's snapshot: give back what was counted.
        foreach (var key in counted)
        {
            await GiveBackAsync(db, key, now, cancellationToken);
        }

        var locks = await db.GetTable<ThrottleRow>().Where(row => row.Key == keys.Account || row.Key == keys.Address)
            .Select(row => row.LockedUntil).ToListAsync(cancellationToken);
        var retryAfter = locks.Select(until => SignInThrottle.RetryAfter(new ThrottleState(0, null, Utc(until)), now)).Max();
        // A lock that ended between the two statements still refused this attempt; say when to come back.
        return retryAfter ?? TimeSpan.FromSeconds(1);
    }

    /// <summary>
    /// The attempt succeeded: clears the account's failures and gives back the address's count for it; the address keeps
    /// its other failures, as one success says nothing about other accounts tried from it.
    /// </summary>
    public async Task RecordSuccessAsync(string email, string address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        var accountKey = await AccountKeyAsync(email, cancellationToken);
        await db.GetTable<ThrottleRow>().Where(row => row.Key == accountKey)
            .Set(row => row.Failures, 0).Set(row => row.WindowStartedAt, (DateTime?)null).Set(row => row.LockedUntil, (DateTime?)null)
            .Set(row => row.UpdatedAt, Sql.CurrentTzTimestamp)
            .UpdateAsync(cancellationToken);
        await GiveBackAsync(db, AddressKey(address), now, cancellationToken);
    }

    /// <summary>The attempt neither failed nor succeeded (the password fits more than one account): gives both counts back.</summary>
    public async Task WithdrawAttemptAsync(string email, string address, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        await GiveBackAsync(db, await AccountKeyAsync(email, cancellationToken), now, cancellationToken);
        await GiveBackAsync(db, AddressKey(address), now, cancellationToken);
    }

    /// <summary>
    /// Uncounts one attempt. The count is then the number of attempts checked and failed in the window, so when it drops
    /// below the limit the lock (set when that attempt reached it) goes too.
    /// </summary>
    private async Task GiveBackAsync(DataConnection db, string key, DateTimeOffset now, CancellationToken cancellationToken) =>
        // SQL: read-modify-write of the counter with greatest()/case in one statement, so concurrent sign-ins do not lose updates.
        await db.ExecuteAsync(
            $"""
            update sign_in_throttles as t set
                failures = greatest(t.failures - 1, 0),
                locked_until = case when t.failures - 1 < {Limit} then null else t.locked_until end,
                updated_at = now()
            where t.key = @key
            """, new { key, accountMax = _perAccount.MaxFailures, addressMax = _perAddress.MaxFailures }, cancellationToken);

    private object Parameters(Keys keys, DateTimeOffset now) => new
    {
        accountKey = keys.Account,
        addressKey = keys.Address,
        accountMax = _perAccount.MaxFailures,
        addressMax = _perAddress.MaxFailures,
        now,
        window = _perAccount.Window,
        lockFor = _perAccount.LockDurations.ToArray(),
    };

    private sealed record Keys(string Account, string Address);

    private async Task<string> AccountKeyAsync(string email, CancellationToken cancellationToken) =>
        "account:" + Convert.ToHexStringLower((await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(email) ?? []);

    [Table("sign_in_throttles")]
    private sealed class ThrottleRow
    {
        [Column("key"), PrimaryKey] public string Key { get; set; } = "";
        [Column("failures")] public int Failures { get; set; }
        [Column("window_started_at")] public DateTime? WindowStartedAt { get; set; }
        [Column("locked_until")] public DateTime? LockedUntil { get; set; }
        [Column("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
    }

    private static string AddressKey(string address) => "address:" + address;

    private static DateTimeOffset? Utc(DateTime? value) => value is { } utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;
}
