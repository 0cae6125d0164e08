using System.Diagnostics;

namespace Invisible.Data.Embedded;

/// <summary>The PostgreSQL server programs of this machine.</summary>
internal sealed record PostgresBinaries(string BinDirectory)
{
    private static readonly string[] RequiredPrograms = ["initdb", "pg_ctl", "postgres"];

    public string InitDb => Path.Combine(BinDirectory, "initdb");

    public string PgCtl => Path.Combine(BinDirectory, "pg_ctl");

    /// <summary>The configured folder, else <c>pg_config --bindir</c>, else the highest <c>/usr/lib/postgresql/*/bin</c>.</summary>
    public static async Task<PostgresBinaries> LocateAsync(string? configuredBinDirectory, CancellationToken cancellationToken)
    {
        if (configuredBinDirectory is not null)
        {
            return HasServerPrograms(configuredBinDirectory)
                ? new PostgresBinaries(configuredBinDirectory)
                : throw new InvalidOperationException(
                    $"PostgreSQL server binaries not found in the configured BinDirectory '{configuredBinDirectory}' (need {string.Join(", ", RequiredPrograms)}).");
        }

        var searched = new List<string>();
        var fromPgConfig = await AskPgConfigAsync(cancellationToken);
        searched.Add(fromPgConfig is null ? "pg_config --bindir (pg_config not on PATH)" : $"pg_config --bindir ({fromPgConfig})");
        if (fromPgConfig is not null && HasServerPrograms(fromPgConfig))
        {
            return new PostgresBinaries(fromPgConfig);
        }

        const string distributionRoot = "/usr/lib/postgresql";
        searched.Add($"{distributionRoot}/*/bin");
        var highestInstalled = Directory.Exists(distributionRoot)
            ? Directory.EnumerateDirectories(distributionRoot)
                .Select(versionDirectory => (Version: ParseMajorVersion(Path.GetFileName(versionDirectory)), Bin: Path.Combine(versionDirectory, "bin")))
                .Where(candidate => candidate.Version is not null && HasServerPrograms(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault()
            : null;
        return highestInstalled is not null
            ? new PostgresBinaries(highestInstalled)
            : throw new InvalidOperationException(
                $"PostgreSQL server binaries not found (searched: {string.Join("; ", searched)}). " +
                "Install PostgreSQL (e.g. `apt-get install postgresql`), set the BinDirectory option, or configure ConnectionStrings:Postgres to use an existing server.");
    }

    private static bool HasServerPrograms(string directory) =>
        RequiredPrograms.All(program => File.Exists(Path.Combine(directory, program)));

    private static int? ParseMajorVersion(string name) => int.TryParse(name, out var version) ? version : null;

    private static async Task<string?> AskPgConfigAsync(CancellationToken cancellationToken)
    {
        try
        {
            var result = await ExternalCommand.RunAsync(new ProcessStartInfo("pg_config", ["--bindir"]), cancellationToken);
            return result.Succeeded ? result.StandardOutput.Trim() : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
