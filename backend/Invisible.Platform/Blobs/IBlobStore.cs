namespace Invisible.Platform.Blobs;

/// <summary>
/// Stores uploaded files, exports and invoice documents by name. Names are relative paths of segments separated by
/// <c>/</c> (e.g. <c>tenants/3f2a…/uploads/invoices.csv</c>); see <see cref="BlobName"/>.
/// </summary>
public interface IBlobStore
{
    /// <summary>Writes the blob, replacing any blob of that name; readers see the old or the new content, never a mix.</summary>
    Task PutAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>The blob's content, or null when there is no blob of that name.</summary>
    Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Names of the blobs that start with <paramref name="prefix"/>, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Deletes the blob; deleting a blob that does not exist is not an error.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);
}
