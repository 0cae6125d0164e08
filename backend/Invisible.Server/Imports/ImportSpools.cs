using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Invisible.Platform;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Imports;

/// <summary>
/// The private copies ("spools") of files being imported, under <c>DATA_DIR/tmp</c>: an import copies its source once,
/// hashing as it copies, and every later pass (detection, validation, keeping) reads that copy, which nobody else can
/// change. Kept in the data directory rather than the system temp directory so that what a dead process leaves behind
/// is found and removed by <see cref="SweepStale"/> at the next start.
/// </summary>
public sealed class ImportSpools(IOptions<RuntimeOptions> options)
{
    public const string FolderName = "tmp";

    public string Folder { get; } = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), FolderName);

    /// <summary>
    /// A new, empty spool file, deleted when it is disposed. While it is open its file is locked against the sweep (shared
    /// lock on Unix, share mode on Windows), so a sweep run by another process never removes a spool still in use.
    /// </summary>
    public FileStream Create(string purpose)
    {
        // The copies are invoices: a 0600 file in a 0700 folder, whatever the umask.
        PrivateFileSystem.CreatePrivateDirectory(Folder);
        return new FileStream(
            Path.Combine(Folder, $"{purpose}-{Guid.NewGuid():N}.tmp"),
            PrivateFileSystem.NewFile(FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous));
    }

    /// <summary>
    /// Removes the spools no process holds open any more: those of imports and uploads whose process died (killed, crashed,
    /// power lost) before it could delete them. Returns how many were removed.
    /// </summary>
    public int SweepStale()
    {
        if (!Directory.Exists(Folder))
        {
            return 0;
        }

        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(Folder))
        {
            try
            {
                // Exclusive and delete-on-close: fails while the owner still has it open, removes it atomically otherwise.
                using var _ = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                removed++;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // in use by a running import, or already gone
            }
        }

        return removed;
    }
}

/// <summary>
/// One immutable version of a file to import: its bytes in a private spool, their SHA-256 and length. The import parses,
/// validates and keeps exactly these bytes, so the recorded hash, the kept copy and the stored rows always agree.
/// </summary>
public sealed class SpooledFile(FileStream spool, string sha256, long length) : IAsyncDisposable
{
    // Taken once, before anyone reads: FileStream.SafeFileHandle's getter flushes the stream's read buffer and re-seeks the
    // handle, so calling it while the parser reads Stream made the parser re-read or skip bytes at its 64 KiB buffer edges.
    private readonly SafeFileHandle _handle = spool.SafeFileHandle;

    /// <summary>The spool for one sequential reader (the parser); other readers use <see cref="ReadAtAsync"/>.</summary>
    public FileStream Stream { get; } = spool;

    /// <summary>Lower-case hex SHA-256 of the spooled bytes.</summary>
    public string Sha256 { get; } = sha256;

    public long Length { get; } = length;

    /// <summary>
    /// Reads at <paramref name="offset"/> without touching <see cref="Stream"/>'s position or buffer, so it may run while
    /// the parser reads <see cref="Stream"/> (keeping the file during its import).
    /// </summary>
    public ValueTask<int> ReadAtAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken) =>
        RandomAccess.ReadAsync(_handle, buffer, offset, cancellationToken);

    /// <summary>
    /// Copies <paramref name="source"/> (from its current position to its end) into a new spool, hashing as it copies.
    /// A file on disk is checked afterwards: when its length or modification time differ from what they were when the
    /// copy began, or fewer or more bytes came than it had then, it was being written meanwhile and
    /// <see cref="FileChangedDuringImportException"/> is thrown rather than importing a mix of two versions.
    /// </summary>
    /// <param name="fileName">The name given by the user, for the error; a file on disk is named by its full path instead.</param>
    /// <param name="copied">Called after each copied block with the bytes copied so far (progress, and a seam for tests).</param>
    public static async Task<SpooledFile> CopyAsync(
        ImportSpools spools, Stream source, string fileName, Action<long>? copied, CancellationToken cancellationToken)
    {
        var file = source as FileStream;
        var start = source.CanSeek ? source.Position : 0;
        var expectedLength = source.CanSeek ? source.Length - start : (long?)null;
        var modifiedAtStart = file is null ? default : File.GetLastWriteTimeUtc(file.Name);
        var spool = spools.Create("import");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            long length = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await spool.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                length += read;
                copied?.Invoke(length);
            }

            await spool.FlushAsync(cancellationToken);
            if (file is not null)
            {
                // By path: the handle's length can be cached from the open (a file opened for reading only), the path's is
                // current. A file replaced by rename meanwhile is reported as changed too, which errs on the safe side.
                var now = new FileInfo(file.Name);
                var lengthNow = now.Exists ? now.Length : 0;
                if (length != expectedLength || lengthNow != start + length || !now.Exists || now.LastWriteTimeUtc != modifiedAtStart)
                {
                    throw new FileChangedDuringImportException(file.Name, expectedLength!.Value, length, lengthNow);
                }
            }
            else if (expectedLength is { } expected && length != expected)
            {
                throw new FileChangedDuringImportException(fileName, expected, length, lengthNow: null);
            }

            spool.Position = 0;
            return new SpooledFile(spool, Convert.ToHexStringLower(hash.GetHashAndReset()), length);
        }
        catch
        {
            await spool.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Stream.DisposeAsync();
}

/// <summary>The file was written to (truncated, appended to or overwritten) while it was being imported; nothing was imported.</summary>
public sealed class FileChangedDuringImportException(string file, long lengthAtStart, long bytesRead, long? lengthNow)
    : IOException(
        $"{file} changed while it was being read ({lengthAtStart:N0} bytes when the import began, {bytesRead:N0} read" +
        (lengthNow is { } now ? $", {now:N0} now" : "") +
        "); nothing was imported. Import it again once it is complete (e.g. once the program exporting it has finished writing).")
{
    public string File { get; } = file;
}

/// <summary>Sweeps stale spools once at start, before this process begins importing (see <see cref="ImportSpools.SweepStale"/>).</summary>
public sealed class ImportSpoolSweep(ImportSpools spools, ILogger<ImportSpoolSweep> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var removed = spools.SweepStale();
        if (removed > 0)
        {
            logger.LogInformation("Removed {Count} temporary import files left in {Folder} by a process that ended mid-import", removed, spools.Folder);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
