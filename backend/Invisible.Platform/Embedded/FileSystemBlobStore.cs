using Invisible.Platform.Blobs;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Embedded;

/// <summary>Blobs as files under <c>{data directory}/blobs</c>.</summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    public const string FolderName = "blobs";

    // Temporary files live beside the root, not inside it, so a listing never shows a half-written blob.
    private const string TemporaryFolderName = "blobs.tmp";

    private readonly string _root;
    private readonly string _temporaryFolder;

    public FileSystemBlobStore(IOptions<RuntimeOptions> options)
    {
        var dataDirectory = Path.GetFullPath(options.Value.DataDirectory);
        _root = Path.Combine(dataDirectory, FolderName);
        _temporaryFolder = Path.Combine(dataDirectory, TemporaryFolderName);
    }

    public async Task PutAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        PrivateFileSystem.CreatePrivateDirectory(_temporaryFolder);

        var temporaryPath = Path.Combine(_temporaryFolder, $"{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temporaryPath, PrivateFileSystem.NewFile(FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous)))
            {
                await stream.WriteAsync(content, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            // rename(2) replaces the target atomically: readers see the old or the new file, never a partial one. The folder is
            // made again if a delete of the folder's last blob removed it between the two steps.
            for (var attempt = 1; ; attempt++)
            {
                // Blobs are invoices and exports: 0600 files (kept by the rename) in 0700 folders.
                PrivateFileSystem.CreatePrivateDirectory(Path.GetDirectoryName(path)!);
                try
                {
                    File.Move(temporaryPath, path, overwrite: true);
                    break;
                }
                catch (DirectoryNotFoundException) when (attempt < 5)
                {
                }
            }
        }
        finally
        {
            File.Delete(temporaryPath);
        }
    }

    public async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_root))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        var names = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<string>>(names);
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);

        // File.Delete ignores a missing file but not a missing folder; both mean "no such blob".
        if (Directory.Exists(Path.GetDirectoryName(path)))
        {
            File.Delete(path);
            RemoveEmptyFolders(Path.GetDirectoryName(path)!);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Removes <paramref name="folder"/> and its parents up to the root while they are empty: a folder exists only for the
    /// blobs in it, so deleting a file's last chunk (a duplicate import's copy, an assembled upload) leaves no empty folder.
    /// </summary>
    private void RemoveEmptyFolders(string folder)
    {
        while (folder.Length > _root.Length && folder.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(folder, recursive: false);
            }
            catch (IOException)
            {
                return; // not empty (or already gone, or being filled by a put, which makes it again): the parents are not empty either
            }

            folder = Path.GetDirectoryName(folder)!;
        }
    }

    private string PathOf(string name)
    {
        var path = Path.GetFullPath(Path.Combine(_root, BlobName.Validate(name)));

        // Defence in depth behind BlobName: whatever the name, the file must be inside the root.
        if (!path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Blob name '{name}' resolves outside the blob folder.", nameof(name));
        }

        return path;
    }
}
