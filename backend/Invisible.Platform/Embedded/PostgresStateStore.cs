using Invisible.Data.Access;
using System.Text.Json;
using LinqToDB.Data;
using Invisible.Platform.State;
using Npgsql;

namespace Invisible.Platform.Embedded;

/// <summary>
/// Embedded mode's <see cref="IStateStore"/>: the <c>state_entries</c> table. The ETag is a random UUID replaced on every
/// write; expired entries read as missing (and are overwritten by the next write).
/// </summary>
public sealed class PostgresStateStore(NpgsqlDataSource database) : IStateStore
{
    public async Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT value::text AS value, etag
            FROM state_entries
            WHERE key = @Key AND (expires_at IS NULL OR expires_at > now())
            """;
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // SQL: the TTL test (expires_at > now()) and the ETag read together in one statement of the state-store contract.
        var row = (await db.QueryToListAsync<StateRow>(sql, new { Key = key }, cancellationToken)).SingleOrDefault();
        return row is null ? null : new StateEntry<T>(key, JsonSerializer.Deserialize<T>(row.Value, StateJson.Options)!, row.ETag.ToString());
    }

    public async Task SaveAsync<T>(string key, T value, StateWriteOptions? options, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await UpsertAsync(connection, null, key, JsonSerializer.Serialize(value, StateJson.Options), options ?? new StateWriteOptions(), cancellationToken);
    }

    public async Task DeleteAsync(string key, string? etag, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await DeleteAsync(connection, null, key, etag, cancellationToken);
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var operation in operations)
        {
            if (operation.Kind == StateOperationKind.Upsert)
            {
                await UpsertAsync(connection, transaction, operation.Key, operation.Value!.Value.GetRawText(), operation.Options, cancellationToken);
            }
            else
            {
                await DeleteAsync(connection, transaction, operation.Key, operation.Options.ETag, cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string key, string json, StateWriteOptions options, CancellationToken cancellationToken)
    {
        await using var db = ProductData.On(connection, transaction);
        var parameters = new
        {
            Key = key,
            Value = json,
            NewETag = Guid.NewGuid(),
            ExpectedETag = ParseETag(options.ETag),
            // Seconds are unambiguous where a TimeSpan could be sent as SQL time rather than interval.
            TimeToLiveSeconds = options.TimeToLive?.TotalSeconds,
        };
        if (options.ETag is null)
        {
            const string lastWriteWins = """
                INSERT INTO state_entries (key, value, etag, expires_at)
                VALUES (@Key, @Value::jsonb, @NewETag, now() + make_interval(secs => @TimeToLiveSeconds))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, expires_at = excluded.expires_at, updated_at = now()
                """;
            // SQL: an upsert (insert ... on conflict do update) with a TTL computed by make_interval.
            await db.ExecuteAsync(lastWriteWins, parameters, cancellationToken);
            return;
        }

        const string firstWriteWins = """
            UPDATE state_entries
            SET value = @Value::jsonb, etag = @NewETag, expires_at = now() + make_interval(secs => @TimeToLiveSeconds), updated_at = now()
            WHERE key = @Key AND etag = @ExpectedETag AND (expires_at IS NULL OR expires_at > now())
            """;
        // SQL: a compare-and-set on the ETag whose affected-row count is the concurrency check.
        if (await db.ExecuteAsync(firstWriteWins, parameters, cancellationToken) == 0)
        {
            throw new StateConcurrencyException(key);
        }
    }

    private static async Task DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string key, string? etag, CancellationToken cancellationToken)
    {
        await using var db = ProductData.On(connection, transaction);
        // SQL: a conditional delete (any version or the given ETag) whose affected-row count is the concurrency check.
        var deleted = await db.ExecuteAsync(
            "DELETE FROM state_entries WHERE key = @Key AND (@AnyVersion OR etag = @ExpectedETag)", new { Key = key, AnyVersion = etag is null, ExpectedETag = ParseETag(etag) }, cancellationToken);
        if (etag is not null && deleted == 0)
        {
            throw new StateConcurrencyException(key);
        }
    }

    // An ETag this store never issued matches nothing, like a stale one.
    private static Guid? ParseETag(string? etag) => Guid.TryParse(etag, out var parsed) ? parsed : etag is null ? null : Guid.Empty;

    private sealed record StateRow(string Value, Guid ETag);
}
