using System.Diagnostics;
using System.Globalization;
using System.Text;
using Invisible.Data.Embedded;

namespace Invisible.Data.Backups;

/// <summary>
/// pgBackRest as the embedded cluster's backup tool: one stanza (<see cref="Stanza"/>), a configuration file in
/// <c>DATA_DIR/pgbackrest/</c> (0600, with the repository's cipher passphrase, so the passphrase never lands in the repository),
/// run as the cluster's server account, which must read the cluster and write the repository (the archive command runs as it).
/// </summary>
internal sealed class PgBackRest
{
    public const string Stanza = "invisible";
    public const string WorkFolderName = "pgbackrest";
    public const string ConfigFileName = "pgbackrest.conf";

    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private PgBackRest(string program, string workDirectory, string configFile, ServerAccount account)
    {
        Program = program;
        WorkDirectory = workDirectory;
        ConfigFile = configFile;
        Account = account;
    }

    public string Program { get; }

    /// <summary>Configuration, log and lock files of this data directory's pgBackRest.</summary>
    public string WorkDirectory { get; }

    public string ConfigFile { get; }

    public ServerAccount Account { get; }

    /// <summary>PostgreSQL's <c>archive_command</c> (PostgreSQL runs it through a shell; <c>%p</c> is the segment).</summary>
    public string ArchiveCommand => $"{Program} --config={ShellWord(ConfigFile)} --stanza={Stanza} archive-push %p";

    /// <summary>The pgBackRest program on PATH, or null when it is not installed.</summary>
    public static string? Locate()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "pgbackrest");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return File.Exists("/usr/bin/pgbackrest") ? "/usr/bin/pgbackrest" : null;
    }

    /// <summary>
    /// Writes <paramref name="configFileName"/> in <paramref name="workDirectory"/> for a repository and a cluster folder, and makes
    /// the work folder and (for a posix repository) the repository folder the server account's own.
    /// </summary>
    public static async Task<PgBackRest> ConfigureAsync(
        string program, string workDirectory, string configFileName, RepositorySettings repository, string clusterDirectory,
        CancellationToken cancellationToken)
    {
        var account = ServerAccount.ForCurrentProcess();
        CreatePrivateDirectory(workDirectory);
        if (repository.IsPosix)
        {
            CreatePrivateDirectory(repository.Path);
            await account.HandOverAsync(repository.Path, cancellationToken);
        }

        var config = new StringBuilder()
            .AppendLine("# Written by Invisible at every start; edit the Backup settings instead.")
            .AppendLine("[global]");
        foreach (var (key, value) in repository.PgBackRestSettings())
        {
            config.Append(key).Append('=').AppendLine(value);
        }

        config
            .AppendLine(CultureInfo.InvariantCulture, $"log-path={Path.Combine(workDirectory, "log")}")
            .AppendLine(CultureInfo.InvariantCulture, $"lock-path={Path.Combine(workDirectory, "lock")}")
            .AppendLine(CultureInfo.InvariantCulture, $"spool-path={Path.Combine(workDirectory, "spool")}")
            .AppendLine("log-level-console=warn")
            .AppendLine("log-level-file=info")
            .AppendLine("compress-type=lz4")
            .AppendLine("start-fast=y")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"[{Stanza}]")
            .AppendLine(CultureInfo.InvariantCulture, $"pg1-path={clusterDirectory}")
            .AppendLine(CultureInfo.InvariantCulture, $"pg1-user={EmbeddedPostgres.SuperuserName}");

        var configFile = Path.Combine(workDirectory, configFileName);
        var temporary = configFile + ".new";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        await using (var stream = new FileStream(temporary, options))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(config.ToString()), cancellationToken);
        }

        File.Move(temporary, configFile, overwrite: true);
        await account.HandOverAsync(workDirectory, cancellationToken);
        return new PgBackRest(program, workDirectory, configFile, account);
    }

    /// <summary>Runs a pgBackRest command on the stanza; <paramref name="server"/> names the running cluster for commands that talk to it.</summary>
    public Task<CommandResult> RunAsync(
        EmbeddedPostgres? server, string superuserPassword, CancellationToken cancellationToken, params IEnumerable<string> arguments) =>
        RunAsync(server is null ? null : (server.Port, server.SocketDirectory), superuserPassword, cancellationToken, arguments);

    public async Task<CommandResult> RunAsync(
        (int Port, string SocketDirectory)? server, string superuserPassword, CancellationToken cancellationToken, params IEnumerable<string> arguments)
    {
        List<string> all = [$"--config={ConfigFile}", $"--stanza={Stanza}"];
        if (server is { } running)
        {
            all.Add($"--pg1-port={running.Port.ToString(CultureInfo.InvariantCulture)}");
            all.Add($"--pg1-socket-path={running.SocketDirectory}");
        }

        all.AddRange(arguments);
        var startInfo = Account.StartInfo(Program, all);
        // libpq (inside pgBackRest) reads the password from its environment: never on a command line, never in a file.
        startInfo.Environment["PGPASSWORD"] = superuserPassword;
        return await ExternalCommand.RunAsync(startInfo, cancellationToken);
    }

    private static string ShellWord(string value) =>
        value.All(character => char.IsAsciiLetterOrDigit(character) || character is '/' or '.' or '-' or '_')
            ? value
            : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, OwnerOnlyDirectory);
    }
}

/// <summary>Where the backups go: pgBackRest's <c>repo1-*</c> settings, with the cipher passphrase.</summary>
internal sealed record RepositorySettings(string Path, IReadOnlyDictionary<string, string> Extra, string CipherPassphrase, int FullBackupsKept = 5)
{
    public bool IsPosix => !Extra.TryGetValue("type", out var type) || type == "posix";

    /// <summary>The repository another data directory's pgBackRest configuration names (for restoring from that data directory).</summary>
    public static RepositorySettings ReadFrom(string configFile)
    {
        var settings = File.ReadLines(configFile)
            .TakeWhile(line => !line.StartsWith('[') || line == "[global]")
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2 && pair[0].StartsWith("repo1-", StringComparison.Ordinal))
            .ToDictionary(pair => pair[0]["repo1-".Length..], pair => pair[1], StringComparer.Ordinal);
        var passphrase = settings.GetValueOrDefault("cipher-pass")
                         ?? throw new InvalidDataException($"{configFile} names no repo1-cipher-pass; Invisible's repositories are always encrypted.");
        var path = settings.GetValueOrDefault("path") ?? throw new InvalidDataException($"{configFile} names no repo1-path.");
        var extra = settings.Where(setting => setting.Key is not ("path" or "cipher-pass" or "cipher-type" or "retention-full"))
            .ToDictionary(StringComparer.Ordinal);
        return new RepositorySettings(path, extra, passphrase);
    }

    public IEnumerable<KeyValuePair<string, string>> PgBackRestSettings()
    {
        yield return new("repo1-path", Path);
        foreach (var (key, value) in Extra.Where(setting => setting.Key is not ("path" or "cipher-type" or "cipher-pass")))
        {
            yield return new("repo1-" + key, value);
        }

        yield return new("repo1-cipher-type", "aes-256-cbc");
        yield return new("repo1-cipher-pass", CipherPassphrase);
        yield return new("repo1-retention-full", FullBackupsKept.ToString(CultureInfo.InvariantCulture));
    }
}
