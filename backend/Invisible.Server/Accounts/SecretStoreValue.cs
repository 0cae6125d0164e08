using Invisible.Platform.Secrets;

namespace Invisible.Server.Accounts;

/// <summary>
/// A value parsed from one secret of the secret store (a key ring), read once per process and shared by every request. A
/// read that failed (a Dapr sidecar still starting) is tried again by the next request instead of being cached.
/// </summary>
public sealed class SecretStoreValue<T>(ISecretStore secrets, string secretName, Func<string, T> parse)
    where T : class
{
    private Task<T>? _value;

    /// <summary>The value once a read has succeeded; null before (or while the first read is under way).</summary>
    public T? Loaded => _value is { IsCompletedSuccessfully: true } loaded ? loaded.Result : null;

    public Task<T> GetAsync(CancellationToken cancellationToken)
    {
        var loading = LazyInitializer.EnsureInitialized(ref _value, LoadAsync);
        if (loading.IsFaulted)
        {
            Interlocked.CompareExchange(ref _value, null, loading);
        }

        return loading.WaitAsync(cancellationToken);
    }

    // Not cancellable by one caller: the load is shared by every request waiting for it.
    private async Task<T> LoadAsync() => parse(await secrets.GetSecretAsync(secretName, CancellationToken.None));
}
