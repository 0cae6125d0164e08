using System.Text.Json;
using Dapr;
using Dapr.Client;
using Invisible.Platform.Blobs;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// <see cref="IBlobStore"/> on the <c>blobstore</c> output binding (create/get/list/delete). Content travels as base64,
/// which bindings.localstorage decodes by itself and S3/Azure Blob decode with <c>decodeBase64: "true"</c> in their
/// component. The metadata key that names the object differs per binding (<see cref="DaprOptions.BlobNameMetadataKey"/>).
/// </summary>
public sealed class DaprBlobStore(DaprClient dapr, IOptions<DaprOptions> options) : IBlobStore
{
    private const string Binding = DaprComponents.BlobStore;

    private readonly string _nameKey = options.Value.BlobNameMetadataKey;
    private readonly string? _rootPath = options.Value.BlobStoreRootPath is { Length: > 0 } root ? root.TrimEnd('/') + "/" : null;

    public async Task PutAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await InvokeAsync("create", System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(content.Span)), NameMetadata(name), cancellationToken);
    }

    public async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await InvokeAsync("get", null, NameMetadata(name), cancellationToken);
            return response.Data.ToArray();
        }
        catch (DaprException e) when (IsNotFound(e))
        {
            return null;
        }
    }

    /// <remarks>
    /// bindings.localstorage answers <c>list</c> with the absolute paths of every file under its <c>rootPath</c>, which
    /// <see cref="DaprOptions.BlobStoreRootPath"/> must repeat so the names can be made relative again. Other bindings
    /// answer <c>list</c> in shapes of their own and need a listing adapter of their own.
    /// </remarks>
    public async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var root = _rootPath ?? throw new InvalidOperationException(
            $"Listing blobs through Dapr needs {DaprOptions.SectionName}:{nameof(DaprOptions.BlobStoreRootPath)}, the rootPath of the '{Binding}' component.");
        var response = await InvokeAsync("list", null, null, cancellationToken);
        var paths = response.Data.IsEmpty ? [] : JsonSerializer.Deserialize<List<string>?>(response.Data.Span, DaprJson.Options) ?? [];
        return paths
            .Select(path => RelativeName(root, path))
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await InvokeAsync("delete", null, NameMetadata(name), cancellationToken);
        }
        catch (DaprException e) when (IsNotFound(e))
        {
            // Deleting a missing blob is not an error (the IBlobStore contract).
        }
    }

    private Task<BindingResponse> InvokeAsync(string operation, byte[]? data, Dictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var request = new BindingRequest(Binding, operation) { Data = data ?? [] };
        foreach (var (key, value) in metadata ?? [])
        {
            request.Metadata[key] = value;
        }

        return dapr.InvokeBindingAsync(request, cancellationToken);
    }

    private Dictionary<string, string> NameMetadata(string name) => new() { [_nameKey] = BlobName.Validate(name) };

    private static string RelativeName(string root, string path) =>
        path.StartsWith(root, StringComparison.Ordinal)
            ? path[root.Length..]
            : throw new InvalidDataException(
                $"The '{Binding}' binding listed '{path}', which is not under {DaprOptions.SectionName}:{nameof(DaprOptions.BlobStoreRootPath)} '{root}'; make it equal to the component's rootPath.");

    /// <summary>
    /// Bindings report a missing object as a generic invocation error (gRPC Internal, "error invoking output binding");
    /// the component's message is the only thing that tells it apart.
    /// </summary>
    private static bool IsNotFound(DaprException e) => DaprErrors.DetailContains(e, NotFoundMessages);

    private static readonly string[] NotFoundMessages = ["not found", "no such file", "NoSuchKey", "BlobNotFound"];
}
