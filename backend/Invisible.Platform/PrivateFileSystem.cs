namespace Invisible.Platform;

/// <summary>
/// Folders and files only the product's own account may read: the data directory holds secrets, invoices being imported
/// and stored blobs, so nothing in it is left to the umask. No-ops on Windows, where the profile's ACLs apply.
/// </summary>
public static class PrivateFileSystem
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates the data directory 0700 if it is missing. Running as root with the embedded cluster, others may traverse it
    /// (0711, still not list it): PostgreSQL then runs as the <c>postgres</c> user, which must reach its cluster folder inside.
    /// An existing directory is left as the operator made it.
    /// </summary>
    public static void CreateDataDirectory(string path, bool clusterRunsAsAnotherUser)
    {
        if (OperatingSystem.IsWindows() || Directory.Exists(path))
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, clusterRunsAsAnotherUser
            ? OwnerOnlyDirectory | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute
            : OwnerOnlyDirectory);
    }

    /// <summary>Creates the folder (and missing parents) 0700, and makes an existing one 0700: for temporary and blob folders.</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var info = Directory.CreateDirectory(path, OwnerOnlyDirectory);
        if (info.UnixFileMode != OwnerOnlyDirectory)
        {
            // Made by an older version under the umask.
            info.UnixFileMode = OwnerOnlyDirectory;
        }
    }

    /// <summary>Options for a new file readable and writable by the owner only (0600).</summary>
    public static FileStreamOptions NewFile(FileAccess access, FileShare share, int bufferSize, FileOptions options)
    {
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = access, Share = share, BufferSize = bufferSize, Options = options };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = OwnerOnlyFile;
        }

        return fileOptions;
    }
}
