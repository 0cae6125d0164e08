namespace Invisible.Platform.Dapr;

/// <summary>Invokes output bindings: <c>POST /v1.0/bindings/{name}</c> with operation, data and metadata.</summary>
public sealed class DaprBindingClient(DaprSidecarClient sidecar)
{
    /// <returns>The response; the caller reads and disposes it.</returns>
    public async Task<HttpResponseMessage> InvokeAsync(string binding, string operation, object? data, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var response = await sidecar.PostJsonAsync($"v1.0/bindings/{binding}", new BindingRequest(operation, data, metadata), cancellationToken, retryServerErrors: false);
        try
        {
            await DaprSidecarClient.EnsureSuccessAsync(response, $"binding '{binding}' {operation}", cancellationToken);
        }
        catch
        {
            response.Dispose();
            throw;
        }

        return response;
    }

    private sealed record BindingRequest(string Operation, object? Data, IReadOnlyDictionary<string, string>? Metadata);
}
