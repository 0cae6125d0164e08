using System.Net.Http.Json;
using Invisible.Platform.Blobs;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// <see cref="IBlobStore"/> on the <c>blobstore</c> output binding (create/get/list/delete). Content travels as base64,
/// which bindings.localstorage decodes by itself and S3/Azure Blob decode with <c>decodeBase64: "true"</c> in their
/// component. The metadata key that names the object differs per binding (<see cref="DaprOptions.BlobNameMetadataKey"/>).
/// </summary>
public sealed class DaprBlobStore(DaprBindingClient bindings, IOptions<DaprOptions> options) : IBlobStore
{
    private const string Binding = DaprComponents.BlobStore;

    private readonly string _nameKey = options.Value.BlobNameMetadataKey;
    private readonly string? _rootPath = options.Value.BlobStoreRootPath is { Length: > 0 } root ? root.TrimEnd('/') + "/" : null;

    public async Task PutAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        using var response = await bindings.InvokeAsync(Binding, "create", Convert.ToBase64String(content.Span), NameMetadata(name), cancellationToken);
    }

    public async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await bindings.InvokeAsync(Binding, "get", null, NameMetadata(name), cancellationToken);
            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (DaprSidecarException e) when (IsNotFound(e))
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
        using var response = await bindings.InvokeAsync(Binding, "list", null, null, cancellationToken);
        var paths = await response.Content.ReadFromJsonAsync<List<string>?>(DaprJson.Options, cancellationToken) ?? [];
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
            using var response = await bindings.InvokeAsync(Binding, "delete", null, NameMetadata(name), cancellationToken);
        }
        catch (DaprSidecarException e) when (IsNotFound(e))
        {
            // Deleting a missing blob is not an error (the IBlobStore contract).
        }
    }

    private Dictionary<string, string> NameMetadata(string name) => new() { [_nameKey] = BlobName.Validate(name) };

    private static string RelativeName(string root, string path) =>
        path.StartsWith(root, StringComparison.Ordinal)
            ? path[root.Length..]
            : throw new InvalidDataException(
                $"The '{Binding}' binding listed '{path}', which is not under {DaprOptions.SectionName}:{nameof(DaprOptions.BlobStoreRootPath)} '{root}'; make it equal to the component's rootPath.");

    /// <summary>
    /// Bindings report a missing object as a generic invocation error (500, <c>ERR_INVOKE_OUTPUT_BINDING</c>); the
    /// component's message is the only thing that tells it apart.
    /// </summary>
    private static bool IsNotFound(DaprSidecarException e) =>
        e.ErrorCode == "ERR_INVOKE_OUTPUT_BINDING"
        && NotFoundMessages.Any(text => e.Message.Contains(text, StringComparison.OrdinalIgnoreCase));

    private static readonly string[] NotFoundMessages = ["not found", "no such file", "NoSuchKey", "BlobNotFound"];
}
