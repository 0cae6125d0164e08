using System.Globalization;
using System.Net;
using System.Text.Json;
using Invisible.Platform.State;

namespace Invisible.Platform.Dapr;

/// <summary>
/// <see cref="IStateStore"/> on the Dapr state API (<c>/v1.0/state/statestore</c>). Writes with an ETag ask for
/// first-write concurrency, writes without for last-write; every call asks for strong consistency because the
/// product uses state for idempotency keys, where a stale read would let a duplicate through.
/// </summary>
public sealed class DaprStateStore(DaprSidecarClient sidecar) : IStateStore
{
    private const string Store = DaprComponents.StateStore;
    private const string StrongConsistency = "strong";

    public async Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken)
    {
        using var response = await sidecar.SendAsync(
            () => new HttpRequestMessage(HttpMethod.Get, $"v1.0/state/{Store}/{Uri.EscapeDataString(key)}?consistency={StrongConsistency}"),
            cancellationToken);
        await DaprSidecarClient.EnsureSuccessAsync(response, $"get state '{key}'", cancellationToken);

        // 204 is the API's answer for a key that does not exist.
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        var etag = response.Headers.TryGetValues("ETag", out var values) ? values.First() : "";
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var value = await JsonSerializer.DeserializeAsync<T>(body, StateJson.Options, cancellationToken);
        return new StateEntry<T>(key, value!, etag);
    }

    public async Task SaveAsync<T>(string key, T value, StateWriteOptions? options, CancellationToken cancellationToken)
    {
        var item = StateItem(key, JsonSerializer.SerializeToElement(value, StateJson.Options), options ?? new StateWriteOptions());
        using var response = await sidecar.PostJsonAsync($"v1.0/state/{Store}", new[] { item }, cancellationToken);
        await EnsureSuccessAsync(response, key, "save state", cancellationToken);
    }

    public async Task DeleteAsync(string key, string? etag, CancellationToken cancellationToken)
    {
        using var response = await sidecar.SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Delete,
                    $"v1.0/state/{Store}/{Uri.EscapeDataString(key)}?concurrency={Concurrency(etag)}&consistency={StrongConsistency}");
                if (etag is not null)
                {
                    request.Headers.TryAddWithoutValidation("If-Match", etag);
                }

                return request;
            },
            cancellationToken);
        await EnsureSuccessAsync(response, key, "delete state", cancellationToken);
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var body = new
        {
            operations = operations.Select(operation => new
            {
                operation = operation.Kind == StateOperationKind.Upsert ? "upsert" : "delete",
                request = StateItem(operation.Key, operation.Value, operation.Options),
            }).ToList(),
        };
        using var response = await sidecar.PostJsonAsync($"v1.0/state/{Store}/transaction", body, cancellationToken);
        await EnsureSuccessAsync(response, string.Join(", ", operations.Select(o => o.Key)), "state transaction", cancellationToken);
    }

    private static DaprStateItem StateItem(string key, JsonElement? value, StateWriteOptions options) =>
        new(key, value, options.ETag,
            options.TimeToLive is { } ttl ? new Dictionary<string, string> { ["ttlInSeconds"] = Math.Ceiling(ttl.TotalSeconds).ToString(CultureInfo.InvariantCulture) } : null,
            new DaprStateOptions(Concurrency(options.ETag), StrongConsistency));

    private static string Concurrency(string? etag) => etag is null ? "last-write" : "first-write";

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string key, string operation, CancellationToken cancellationToken)
    {
        // The runtime answers an ETag mismatch with 409 Conflict.
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new StateConcurrencyException(key);
        }

        await DaprSidecarClient.EnsureSuccessAsync(response, $"{operation} '{key}'", cancellationToken);
    }

    private sealed record DaprStateItem(string Key, JsonElement? Value, string? Etag, Dictionary<string, string>? Metadata, DaprStateOptions Options);

    private sealed record DaprStateOptions(string Concurrency, string Consistency);
}
