using System.Globalization;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using Grpc.Core;
using Invisible.Platform.State;


namespace Invisible.Platform.Dapr;

/// <summary>
/// <see cref="IStateStore"/> on the Dapr state API through <see cref="DaprClient"/>. Values travel as our own JSON
/// (<see cref="StateJson"/>) so the stored format does not depend on the SDK's serializer. Writes with an ETag ask for
/// first-write concurrency, writes without for last-write; every call asks for strong consistency because the product
/// uses state for idempotency keys, where a stale read would let a duplicate through.
/// </summary>
public sealed class DaprStateStore(DaprClient dapr) : IStateStore
{
    private const string Store = DaprComponents.StateStore;
    public const string TimeToLiveMetadata = "ttlInSeconds";

    public async Task<State.StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken)
    {
        var (value, etag) = await dapr.GetByteStateAndETagAsync(Store, key, ConsistencyMode.Strong, cancellationToken: cancellationToken);

        // The runtime answers a key that does not exist with no data and no ETag.
        if (value.IsEmpty && string.IsNullOrEmpty(etag))
        {
            return null;
        }

        return new State.StateEntry<T>(key, JsonSerializer.Deserialize<T>(value.Span, StateJson.Options)!, etag ?? "");
    }

    public async Task SaveAsync<T>(string key, T value, StateWriteOptions? options, CancellationToken cancellationToken)
    {
        options ??= new StateWriteOptions();
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, StateJson.Options);
        if (options.ETag is null)
        {
            await dapr.SaveByteStateAsync(Store, key, bytes, StateOptionsFor(null), Metadata(options), cancellationToken);
        }
        else if (!await dapr.TrySaveByteStateAsync(Store, key, bytes, options.ETag, StateOptionsFor(options.ETag), Metadata(options), cancellationToken))
        {
            throw new StateConcurrencyException(key);
        }
    }

    public async Task DeleteAsync(string key, string? etag, CancellationToken cancellationToken)
    {
        if (etag is null)
        {
            await dapr.DeleteStateAsync(Store, key, StateOptionsFor(null), cancellationToken: cancellationToken);
        }
        else if (!await dapr.TryDeleteStateAsync(Store, key, etag, StateOptionsFor(etag), cancellationToken: cancellationToken))
        {
            throw new StateConcurrencyException(key);
        }
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var requests = operations.Select(operation => new StateTransactionRequest(
                operation.Key,
                operation.Kind == StateOperationKind.Upsert ? JsonSerializer.SerializeToUtf8Bytes(operation.Value, StateJson.Options) : null,
                operation.Kind == StateOperationKind.Upsert ? StateOperationType.Upsert : StateOperationType.Delete,
                operation.Options.ETag,
                Metadata(operation.Options),
                StateOptionsFor(operation.Options.ETag)))
            .ToList();
        try
        {
            await dapr.ExecuteStateTransactionAsync(Store, requests, cancellationToken: cancellationToken);
        }
        catch (DaprException e) when (IsETagMismatch(e))
        {
            throw new StateConcurrencyException(string.Join(", ", operations.Select(o => o.Key)));
        }
    }

    /// <summary>
    /// A transaction reports a stale ETag as Internal with the state package's "possible etag mismatch" text (only single
    /// saves and deletes get Aborted, which the SDK's Try… methods turn into false).
    /// </summary>
    private static bool IsETagMismatch(DaprException e) =>
        DaprErrors.Status(e) is StatusCode.Aborted || (DaprErrors.Status(e) is StatusCode.Internal && DaprErrors.DetailContains(e, "etag mismatch"));

    private static StateOptions StateOptionsFor(string? etag) => new()
    {
        Concurrency = etag is null ? ConcurrencyMode.LastWrite : ConcurrencyMode.FirstWrite,
        Consistency = ConsistencyMode.Strong,
    };

    private static Dictionary<string, string>? Metadata(StateWriteOptions options) =>
        options.TimeToLive is { } ttl
            ? new Dictionary<string, string> { [TimeToLiveMetadata] = Math.Ceiling(ttl.TotalSeconds).ToString(CultureInfo.InvariantCulture) }
            : null;
}
