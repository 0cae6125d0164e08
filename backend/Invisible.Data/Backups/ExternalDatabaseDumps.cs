using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using Invisible.Data.Embedded;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Invisible.Data.Backups;

/// <summary>One dump of an external database: <c>LABEL/database.dump</c> (pg_dump's custom format) and <c>LABEL/blobs.tar</c>.</summary>
public sealed record DatabaseDump(string Label, string Folder, DateTimeOffset TakenAt, long DatabaseBytes, long BlobBytes);

/// <summary>
/// Backups when <c>ConnectionStrings:Postgres</c> names an external database, whose provider owns point-in-time recovery:
/// <c>pg_dump --format=custom</c> of the database plus a tar of the blob store, into <c>REPOSITORY/dumps/LABEL/</c>
/// (REPOSITORY is <c>Backup:RepositoryPath</c>, default <c>DATA_DIR/backups</c>). The dump runs as
/// <c>Backup:DumpConnectionString</c> (default the owner's connection): the tenant tables force row-level security, so that
/// role needs BYPASSRLS (or to be a superuser) — pg_dump refuses rather than dump empty tables. Restore: see docs/operations.md.
/// </summary>
public sealed class ExternalDatabaseDumps(string dataDirectory, BackupOptions options, ILogger logger)
{
    public const string DatabaseFileName = "database.dump";
    public const string BlobsFileName = "blobs.tar";

    public string DumpsFolder =>
        Path.Combine(options.RepositoryPath is { Length: > 0 } configured ? Path.GetFullPath(configured) : Path.Combine(dataDirectory, "backups"), "dumps");

    public async Task<DatabaseDump> DumpAsync(string connectionString, CancellationToken cancellationToken)
    {
        var takenAt = DateTimeOffset.UtcNow;
        var label = takenAt.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "D";
        var folder = Path.Combine(DumpsFolder, label);
        Directory.CreateDirectory(folder);
        var binaries = await PostgresBinaries.LocateAsync(null, cancellationToken);
        var start = new ProcessStartInfo(Path.Combine(binaries.BinDirectory, "pg_dump"))
        {
            ArgumentList = { "--format=custom", "--file", Path.Combine(folder, DatabaseFileName) },
        };
        // The connection through libpq's environment: the password never appears on a command line.
        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        start.Environment["PGHOST"] = connection.Host;
        start.Environment["PGPORT"] = connection.Port.ToString(CultureInfo.InvariantCulture);
        start.Environment["PGDATABASE"] = connection.Database;
        start.Environment["PGUSER"] = connection.Username;
        start.Environment["PGPASSWORD"] = connection.Password ?? string.Empty;
        try
        {
            (await ExternalCommand.RunAsync(start, cancellationToken)).EnsureSucceeded(
                "Dumping the external database (the dump role needs BYPASSRLS: set Backup:DumpConnectionString)");
            var blobs = Path.Combine(dataDirectory, "blobs");
            var blobsTar = Path.Combine(folder, BlobsFileName);
            if (Directory.Exists(blobs))
            {
                await TarFile.CreateFromDirectoryAsync(blobs, blobsTar, includeBaseDirectory: false, cancellationToken);
            }
            else
            {
                await using var empty = File.Create(blobsTar);
                await using var writer = new TarWriter(empty);
            }
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }

        logger.LogInformation("External database dumped into {Folder}", folder);
        return Describe(folder)!;
    }

    /// <summary>The dumps in the repository, oldest first.</summary>
    public IReadOnlyList<DatabaseDump> List() =>
        Directory.Exists(DumpsFolder)
            ? Directory.EnumerateDirectories(DumpsFolder).Order(StringComparer.Ordinal).Select(Describe).OfType<DatabaseDump>().ToList()
            : [];

    private static DatabaseDump? Describe(string folder)
    {
        var database = new FileInfo(Path.Combine(folder, DatabaseFileName));
        var blobs = new FileInfo(Path.Combine(folder, BlobsFileName));
        if (!database.Exists || !blobs.Exists)
        {
            return null;
        }

        return new DatabaseDump(Path.GetFileName(folder), folder, new DateTimeOffset(database.LastWriteTimeUtc, TimeSpan.Zero), database.Length, blobs.Length);
    }
}
