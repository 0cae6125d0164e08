using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Invisible.Data.Embedded;
using Invisible.Data.Secrets;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Invisible.Data.Backups;

/// <summary>
/// Backups of a data directory with the embedded cluster: WAL archived continuously through pgBackRest into an encrypted
/// repository, base backups on demand, and with each base backup the files the database needs to be useful (the blob store,
/// the secrets its data depends on) as a bundle inside the cluster folder, so it is backed up, encrypted and expired with it.
/// </summary>
public sealed class EmbeddedBackups
{
    /// <summary>The secret that encrypts the repository, kept in the data directory's database secrets file, never in the repository.</summary>
    public const string CipherPassphraseSecret = "backup_cipher_passphrase";

    /// <summary>The bundle's name inside the cluster folder while a backup runs (and in a restored cluster until it is unpacked).</summary>
    internal const string FilesBundleName = "invisible-files.tar";

    private const string ManifestEntry = "manifest.json";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // The data directory's files the database depends on: Platform's blob store and secret store (FileSecretStore), and the
    // database passwords. Named here because Invisible.Data sits below Invisible.Platform.
    private const string BlobFolder = "blobs";
    private static readonly string[] SecretFiles = ["secrets.json", "database-secrets.json"];

    private readonly string dataDirectory;
    private readonly BackupOptions options;
    private readonly ILogger logger;

    public EmbeddedBackups(string dataDirectory, BackupOptions options, ILogger logger)
    {
        this.dataDirectory = Path.GetFullPath(dataDirectory);
        this.options = options;
        this.logger = logger;
    }

    public string RepositoryPath => options.RepositoryPath is { Length: > 0 } configured ? Path.GetFullPath(configured) : Path.Combine(dataDirectory, "backups");

    /// <summary>
    /// Writes this data directory's pgBackRest configuration for <paramref name="clusterDirectory"/> and returns the archiving the
    /// cluster must start with; null when backups are off or pgBackRest is not installed (said in the log).
    /// </summary>
    public async Task<WalArchiving?> PrepareArchivingAsync(string clusterDirectory, CancellationToken cancellationToken)
    {
        if (!options.Enabled)
        {
            return null;
        }

        var tool = await ConfigureAsync(clusterDirectory, cancellationToken);
        if (tool is null)
        {
            logger.LogWarning("pgBackRest is not installed (apt-get install pgbackrest): WAL is not archived and no backup can be taken; set Backup:Enabled=false to silence this");
            return null;
        }

        return new WalArchiving(tool.ArchiveCommand, options.ArchiveTimeout);
    }

    /// <summary>Creates the repository's stanza once the cluster runs (pgBackRest reads the cluster's system id from it); idempotent.</summary>
    public async Task EnsureRepositoryAsync(EmbeddedPostgres cluster, CancellationToken cancellationToken)
    {
        var tool = await ConfigureAsync(cluster.ClusterDirectory, cancellationToken) ?? throw NotInstalled();
        var repository = await RepositoryAsync(cancellationToken);
        if (repository.IsPosix && File.Exists(Path.Combine(repository.Path, "backup", PgBackRest.Stanza, "backup.info")))
        {
            return;
        }

        var result = await tool.RunAsync(cluster, await SuperuserPasswordAsync(cancellationToken), cancellationToken, "stanza-create");
        result.EnsureSucceeded($"Creating the backup repository's stanza in {repository.Path}");
        logger.LogInformation("Backup repository {Repository} ready for {ClusterDirectory}", repository.Path, cluster.ClusterDirectory);
    }

    /// <summary>Takes a base backup now, with the files bundle and manifest; returns it as <c>backup list</c> shows it.</summary>
    public async Task<BackupSet> BackupAsync(EmbeddedPostgres cluster, string databaseName, BackupType type, CancellationToken cancellationToken)
    {
        await EnsureRepositoryAsync(cluster, cancellationToken);
        var tool = await ConfigureAsync(cluster.ClusterDirectory, cancellationToken) ?? throw NotInstalled();
        var bundle = Path.Combine(cluster.ClusterDirectory, FilesBundleName);
        try
        {
            await WriteFilesBundleAsync(bundle, cluster.SuperuserConnectionString(databaseName), cancellationToken);
            await cluster.Account.HandOverAsync(bundle, cancellationToken);
            var result = await tool.RunAsync(
                cluster, await SuperuserPasswordAsync(cancellationToken), cancellationToken, "backup", $"--type={type.ToString().ToLowerInvariant()}");
            result.EnsureSucceeded("pgBackRest backup");
        }
        finally
        {
            File.Delete(bundle);
        }

        var backups = (await ListAsync(cancellationToken)).Backups;
        var newest = (backups.Count > 0 ? backups[^1] : null)
                     ?? throw new InvalidOperationException("pgBackRest reported success but lists no backup.");
        logger.LogInformation("Backup {Label} ({Type}) taken in {Repository}", newest.Label, newest.Type, RepositoryPath);
        return newest;
    }

    /// <summary>
    /// Closes the cluster's current WAL segment and waits until it is in the repository (<c>pgbackrest check</c>), so a restore right
    /// after reaches up to now rather than up to the last <c>archive_timeout</c>. Attaches to a running cluster, or starts (and stops)
    /// it when none runs: its newest changes may be in a segment nobody archived yet.
    /// </summary>
    public async Task FlushArchiveAsync(CancellationToken cancellationToken)
    {
        var clusterDirectory = Path.Combine(dataDirectory, "postgres");
        var archiving = await PrepareArchivingAsync(clusterDirectory, cancellationToken);
        if (archiving is null || !File.Exists(Path.Combine(clusterDirectory, "PG_VERSION")))
        {
            return;
        }

        await using var cluster = await EmbeddedPostgres.StartAsync(
            new EmbeddedPostgresOptions { DataDirectory = dataDirectory, Archiving = archiving }, logger, cancellationToken);
        await EnsureRepositoryAsync(cluster, cancellationToken);
        var tool = await ConfigureAsync(cluster.ClusterDirectory, cancellationToken) ?? throw NotInstalled();
        var result = await tool.RunAsync(cluster, await SuperuserPasswordAsync(cancellationToken), cancellationToken, "check");
        if (!result.Succeeded)
        {
            logger.LogWarning("Could not flush the WAL archive of {ClusterDirectory}: {Error}", cluster.ClusterDirectory, result.StandardError.Trim());
        }
    }

    /// <summary>The repository's backups, oldest first, and how far the archived WAL reaches.</summary>
    public async Task<BackupCatalog> ListAsync(CancellationToken cancellationToken)
    {
        var tool = await ConfigureAsync(Path.Combine(dataDirectory, "postgres"), cancellationToken) ?? throw NotInstalled();
        var catalog = await ReadCatalogAsync(tool, await SuperuserPasswordAsync(cancellationToken), cancellationToken);
        return catalog with { LastArchivedAt = LastArchivedAt(RepositoryPath) };
    }

    /// <summary>When the newest WAL segment reached a posix repository (its file's time); null for other repositories or none yet.</summary>
    private DateTimeOffset? LastArchivedAt(string repositoryPath)
    {
        var archive = Path.Combine(repositoryPath, "archive", PgBackRest.Stanza);
        if ((options.Repository.TryGetValue("type", out var type) && type != "posix") || !Directory.Exists(archive))
        {
            return null;
        }

        var newest = Directory.EnumerateFiles(archive, "0*", SearchOption.AllDirectories)
            .Select(File.GetLastWriteTimeUtc)
            .DefaultIfEmpty()
            .Max();
        return newest == default ? null : new DateTimeOffset(newest, TimeSpan.Zero);
    }

    /// <summary>
    /// Builds <paramref name="request"/>'s new data directory from a repository: the cluster as it was at the target (or at the end
    /// of the archived WAL), the files of the newest backup before it, recovery run to completion; the product then starts on it.
    /// </summary>
    public static async Task<RestoreResult> RestoreAsync(RestoreRequest request, ILogger logger, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var target = Path.GetFullPath(request.DataDirectory);
        var clusterDirectory = Path.Combine(target, "postgres");
        if (File.Exists(Path.Combine(clusterDirectory, "PG_VERSION")) || File.Exists(Path.Combine(target, "database-secrets.json")))
        {
            throw new RestoreRefusedException($"{target} already holds a database; restore builds a new data directory and never overwrites one. Name an empty or missing folder.");
        }

        var repository = ResolveRepository(request);
        var program = PgBackRest.Locate() ?? throw NotInstalled();
        CreateDataDirectory(target);
        var account = ServerAccount.ForCurrentProcess();
        CreateDirectory(clusterDirectory, OwnerOnly);
        await account.HandOverAsync(clusterDirectory, cancellationToken);

        // The source's repository is read through a configuration of its own, dropped once recovery is over.
        var workDirectory = Path.Combine(target, PgBackRest.WorkFolderName);
        var tool = await PgBackRest.ConfigureAsync(program, workDirectory, "restore.conf", repository, clusterDirectory, cancellationToken);
        var catalog = await ReadCatalogAsync(tool, superuserPassword: "", cancellationToken);
        if (catalog.Backups.Count == 0)
        {
            throw new RestoreRefusedException($"The repository {repository.Path} holds no backup.");
        }

        // pgBackRest accepts --target-action only with a recovery target; without one recovery runs to the end of the archived WAL.
        List<string> arguments = ["restore"];
        BackupSet from;
        if (request.PointInTime is { } pointInTime)
        {
            from = catalog.Backups.LastOrDefault(backup => backup.StoppedAt <= pointInTime)
                   ?? throw new RestoreRefusedException(
                       $"No backup in {repository.Path} ended before {Format(pointInTime)}; the earliest recoverable moment is {Format(catalog.Backups[0].StoppedAt)}.");
            arguments.AddRange(["--type=time", $"--target={Format(pointInTime)}", $"--set={from.Label}", "--target-action=promote"]);
        }
        else if (request.BackupEnd)
        {
            from = catalog.Backups[^1];
            arguments.AddRange(["--type=immediate", $"--set={from.Label}", "--target-action=promote"]);
        }
        else
        {
            from = catalog.Backups[^1];
        }

        logger.LogInformation("Restoring {Backup} from {Repository} into {ClusterDirectory}", from.Label, repository.Path, clusterDirectory);
        (await tool.RunAsync((EmbeddedPostgres?)null, superuserPassword: "", cancellationToken, arguments)).EnsureSucceeded($"Restoring {from.Label} from {repository.Path}");
        var manifest = await UnpackFilesBundleAsync(
            Path.Combine(clusterDirectory, FilesBundleName), target, request.BackupEnd ? null : request.From, cancellationToken);

        await using (var recovered = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = target }, logger, cancellationToken))
        {
            await WaitForRecoveryAsync(recovered, cancellationToken);
        }

        // The restored cluster would otherwise keep asking the source's repository for WAL on a later crash recovery.
        var autoConf = Path.Combine(clusterDirectory, "postgresql.auto.conf");
        if (File.Exists(autoConf))
        {
            var kept = (await File.ReadAllLinesAsync(autoConf, cancellationToken)).Where(line => !line.StartsWith("restore_command", StringComparison.Ordinal));
            await File.WriteAllLinesAsync(autoConf, kept, cancellationToken);
        }

        File.Delete(tool.ConfigFile);
        return new RestoreResult(from, manifest, clock.Elapsed);
    }

    private static async Task WaitForRecoveryAsync(EmbeddedPostgres cluster, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(cluster.SuperuserConnectionString());
        await connection.OpenAsync(cancellationToken);
        while (true)
        {
            // SQL: pg_is_in_recovery() is a server function, asked as the superuser before the product's schema is usable.
            await using var command = new NpgsqlCommand("select pg_is_in_recovery()", connection);
            if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    private static RepositorySettings ResolveRepository(RestoreRequest request)
    {
        var from = Path.GetFullPath(request.From);
        var sourceConfig = Path.Combine(from, PgBackRest.WorkFolderName, PgBackRest.ConfigFileName);
        if (File.Exists(sourceConfig))
        {
            return RepositorySettings.ReadFrom(sourceConfig);
        }

        if (!Directory.Exists(Path.Combine(from, "backup", PgBackRest.Stanza)))
        {
            throw new RestoreRefusedException($"{from} is neither a data directory with backups nor a backup repository (no backup/{PgBackRest.Stanza} in it).");
        }

        var passphrase = request.CipherPassphrase
                         ?? throw new RestoreRefusedException(
                             $"{from} is a bare repository: give its passphrase (the '{CipherPassphraseSecret}' of the original data directory's database-secrets.json) with --passphrase-file or INVISIBLE_BACKUP_PASSPHRASE.");
        return new RepositorySettings(from, new Dictionary<string, string>(), passphrase);
    }

    private static async Task<BackupCatalog> ReadCatalogAsync(PgBackRest tool, string superuserPassword, CancellationToken cancellationToken)
    {
        var result = (await tool.RunAsync((EmbeddedPostgres?)null, superuserPassword, cancellationToken, "info", "--output=json")).EnsureSucceeded("Reading the backup repository");
        var stanzas = JsonNode.Parse(result.StandardOutput)?.AsArray() ?? [];
        var stanza = stanzas.FirstOrDefault(node => node?["name"]?.GetValue<string>() == PgBackRest.Stanza);
        if (stanza is null)
        {
            return new BackupCatalog([], null, null);
        }

        var backups = (stanza["backup"]?.AsArray() ?? [])
            .Select(node => new BackupSet(
                node!["label"]!.GetValue<string>(),
                node["type"]!.GetValue<string>(),
                DateTimeOffset.FromUnixTimeSeconds(node["timestamp"]!["start"]!.GetValue<long>()),
                DateTimeOffset.FromUnixTimeSeconds(node["timestamp"]!["stop"]!.GetValue<long>()),
                node["info"]?["size"]?.GetValue<long>() ?? 0,
                node["info"]?["repository"]?["delta"]?.GetValue<long>() ?? 0,
                node["error"]?.GetValue<bool>() ?? false))
            .ToList();
        var archive = stanza["archive"]?.AsArray().LastOrDefault();
        return new BackupCatalog(backups, archive?["min"]?.GetValue<string>(), archive?["max"]?.GetValue<string>());
    }

    private async Task WriteFilesBundleAsync(string bundle, string superuserConnectionString, CancellationToken cancellationToken)
    {
        var blobDirectory = Path.Combine(dataDirectory, BlobFolder);
        var manifest = new BackupManifest(
            DateTimeOffset.UtcNow,
            await BackupManifest.CountRowsAsync(superuserConnectionString, cancellationToken),
            await BackupManifest.HashBlobsAsync(blobDirectory, cancellationToken));
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(bundle, fileOptions);
        await using var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: false);
        var manifestEntry = new PaxTarEntry(TarEntryType.RegularFile, ManifestEntry) { DataStream = new MemoryStream(manifest.ToJson()) };
        await tar.WriteEntryAsync(manifestEntry, cancellationToken);
        foreach (var secretFile in SecretFiles)
        {
            var path = Path.Combine(dataDirectory, secretFile);
            if (File.Exists(path))
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, secretFile) { DataStream = new MemoryStream(await WithoutPassphraseAsync(path, cancellationToken)) };
                await tar.WriteEntryAsync(entry, cancellationToken);
            }
        }

        foreach (var blob in manifest.BlobSha256.Keys)
        {
            await tar.WriteEntryAsync(Path.Combine(blobDirectory, blob), $"{BlobFolder}/{blob}", cancellationToken);
        }
    }

    /// <summary>A secrets file's bytes without the repository's passphrase, which must never travel into the repository.</summary>
    private static async Task<byte[]> WithoutPassphraseAsync(string path, CancellationToken cancellationToken)
    {
        var secrets = JsonNode.Parse(await File.ReadAllTextAsync(path, cancellationToken))?.AsObject() ?? [];
        secrets.Remove(CipherPassphraseSecret);
        return JsonSerializer.SerializeToUtf8Bytes(secrets, Indented);
    }

    /// <summary>
    /// Unpacks the restored bundle into the new data directory (secrets 0600, blobs in 0700 folders). Blobs written after the
    /// backup are taken from the source data directory when it is still there and they are missing from the bundle.
    /// </summary>
    private static async Task<BackupManifest> UnpackFilesBundleAsync(string bundle, string target, string? source, CancellationToken cancellationToken)
    {
        if (!File.Exists(bundle))
        {
            throw new InvalidDataException($"The restored backup has no {FilesBundleName}: it was not taken by `invisible backup`.");
        }

        BackupManifest? manifest = null;
        await using (var stream = File.OpenRead(bundle))
        await using (var tar = new TarReader(stream))
        {
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                if (entry.Name == ManifestEntry)
                {
                    manifest = BackupManifest.FromJson(entry.DataStream!);
                    continue;
                }

                var destination = Path.GetFullPath(Path.Combine(target, entry.Name));
                if (!destination.StartsWith(target + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"The backup's files bundle names a path outside the data directory: {entry.Name}");
                }

                CreatePrivateDirectories(target, Path.GetDirectoryName(destination)!);
                await WritePrivateFileAsync(destination, entry.DataStream!, cancellationToken);
            }
        }

        File.Delete(bundle);
        var sourceBlobs = source is null ? null : Path.Combine(Path.GetFullPath(source), BlobFolder);
        if (sourceBlobs is not null && Directory.Exists(sourceBlobs))
        {
            foreach (var file in Directory.EnumerateFiles(sourceBlobs, "*", SearchOption.AllDirectories))
            {
                var destination = Path.Combine(target, BlobFolder, Path.GetRelativePath(sourceBlobs, file));
                if (!File.Exists(destination))
                {
                    CreatePrivateDirectories(target, Path.GetDirectoryName(destination)!);
                    await using var input = File.OpenRead(file);
                    await WritePrivateFileAsync(destination, input, cancellationToken);
                }
            }
        }

        return manifest ?? throw new InvalidDataException($"The restored {FilesBundleName} has no {ManifestEntry}.");
    }

    private static void CreatePrivateDirectories(string root, string directory)
    {
        var relative = Path.GetRelativePath(root, directory);
        var current = root;
        foreach (var part in relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            if (!Directory.Exists(current))
            {
                CreateDirectory(current, OwnerOnly);
            }
        }
    }

    private static async Task WritePrivateFileAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var output = new FileStream(path, options);
        await content.CopyToAsync(output, cancellationToken);
    }

    private static void CreateDataDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }

        // As the embedded start-up does: others may traverse (0711) when the cluster runs as another user, never list.
        CreateDirectory(path, Environment.IsPrivilegedProcess ? OwnerOnly | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : OwnerOnly);
    }

    private static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, mode);
    }

    private async Task<PgBackRest?> ConfigureAsync(string clusterDirectory, CancellationToken cancellationToken)
    {
        var program = PgBackRest.Locate();
        if (program is null)
        {
            return null;
        }

        return await PgBackRest.ConfigureAsync(
            program, Path.Combine(dataDirectory, PgBackRest.WorkFolderName), PgBackRest.ConfigFileName, await RepositoryAsync(cancellationToken), clusterDirectory,
            cancellationToken);
    }

    private async Task<RepositorySettings> RepositoryAsync(CancellationToken cancellationToken)
    {
        var passphrase = await DatabaseSecretsFile.InDataDirectory(dataDirectory).GetOrCreateAsync(CipherPassphraseSecret, cancellationToken);
        return new RepositorySettings(RepositoryPath, options.Repository, passphrase, options.FullBackupsKept);
    }

    private Task<string> SuperuserPasswordAsync(CancellationToken cancellationToken) =>
        DatabaseSecretsFile.InDataDirectory(dataDirectory).GetOrCreateAsync(DatabaseSecretsFile.SuperuserPassword, cancellationToken);

    private static InvalidOperationException NotInstalled() =>
        new("pgBackRest is not installed (apt-get install pgbackrest, or scripts/bootstrap.sh); backups of the embedded cluster need it.");

    internal static string Format(DateTimeOffset moment) =>
        moment.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";
}

/// <summary>One base backup in the repository.</summary>
public sealed record BackupSet(string Label, string Type, DateTimeOffset StartedAt, DateTimeOffset StoppedAt, long DatabaseBytes, long RepositoryBytes, bool HadErrors);

/// <summary>The repository's backups (oldest first) and the archived WAL range: recovery reaches from the oldest backup's end to the newest archived segment.</summary>
public sealed record BackupCatalog(IReadOnlyList<BackupSet> Backups, string? OldestWal, string? NewestWal)
{
    /// <summary>When the newest archived segment arrived (posix repositories): the end of the recoverable window.</summary>
    public DateTimeOffset? LastArchivedAt { get; init; }
}

/// <param name="From">A data directory whose backups to use, or a bare pgBackRest repository folder.</param>
/// <param name="DataDirectory">The new data directory; must not hold a cluster.</param>
/// <param name="PointInTime">Recover to this moment; null recovers to the end of the archived WAL (or of the backup, with <paramref name="BackupEnd"/>).</param>
/// <param name="BackupEnd">Stop as soon as the newest backup is consistent, with exactly its own blobs (the drill compares it with its manifest).</param>
/// <param name="CipherPassphrase">The repository's passphrase, needed only for a bare repository.</param>
public sealed record RestoreRequest(string From, string DataDirectory, DateTimeOffset? PointInTime = null, bool BackupEnd = false, string? CipherPassphrase = null);

public sealed record RestoreResult(BackupSet Backup, BackupManifest Manifest, TimeSpan Elapsed);

/// <summary>A restore that would overwrite data or has nothing to restore from; the CLI says so and exits 2.</summary>
public sealed class RestoreRefusedException(string message) : Exception(message);
