using System.Text.Json;

namespace Invisible.Platform.State;

/// <summary>
/// Key/value state (idempotency keys, upload sessions, caches) with optimistic concurrency: every read returns an
/// ETag; a write or delete that passes one succeeds only if the entry is still at that version (first write wins),
/// one without an ETag always succeeds (last write wins). Values are stored as JSON.
/// </summary>
public interface IStateStore
{
    /// <summary>The entry, or null when the key has none (or it expired).</summary>
    Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken);

    /// <exception cref="StateConcurrencyException">An ETag was given and the entry has changed since.</exception>
    Task SaveAsync<T>(string key, T value, StateWriteOptions? options, CancellationToken cancellationToken);

    /// <exception cref="StateConcurrencyException">An ETag was given and the entry has changed since.</exception>
    Task DeleteAsync(string key, string? etag, CancellationToken cancellationToken);

    /// <summary>Applies every operation or none.</summary>
    /// <exception cref="StateConcurrencyException">An operation's ETag no longer matches; nothing was applied.</exception>
    Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);
}

public sealed record StateEntry<T>(string Key, T Value, string ETag);

/// <param name="ETag">Write only if the entry is still at this version (first write wins).</param>
/// <param name="TimeToLive">The entry disappears after this long.</param>
public sealed record StateWriteOptions(string? ETag = null, TimeSpan? TimeToLive = null);

/// <summary>One operation of <see cref="IStateStore.ExecuteTransactionAsync"/>.</summary>
public sealed record StateOperation
{
    private StateOperation(StateOperationKind kind, string key, JsonElement? value, StateWriteOptions options)
    {
        Kind = kind;
        Key = key;
        Value = value;
        Options = options;
    }

    public StateOperationKind Kind { get; }

    public string Key { get; }

    /// <summary>The JSON value to write; null for a delete.</summary>
    public JsonElement? Value { get; }

    public StateWriteOptions Options { get; }

    public static StateOperation Upsert<T>(string key, T value, StateWriteOptions? options = null) =>
        new(StateOperationKind.Upsert, key, JsonSerializer.SerializeToElement(value, StateJson.Options), options ?? new StateWriteOptions());

    public static StateOperation Delete(string key, string? etag = null) =>
        new(StateOperationKind.Delete, key, null, new StateWriteOptions(etag));
}

public enum StateOperationKind
{
    Upsert,
    Delete,
}

public sealed class StateConcurrencyException(string key)
    : Exception($"State entry '{key}' was changed or deleted by someone else (ETag mismatch); read it again and retry.")
{
    public string Key { get; } = key;
}

/// <summary>The one JSON convention for state values, so both adapters store the same text.</summary>
public static class StateJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
