using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Invisible.Data.Migrations;

/// <summary>One versioned SQL migration, <c>Migrations/NNNN_name.sql</c>.</summary>
public sealed partial record Migration
{
    public Migration(int version, string name, string sql)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(sql);
        Version = version;
        Name = name;
        Sql = sql;
        // Line endings are normalised so a Windows checkout (CRLF) of an unchanged file keeps its checksum.
        Checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n"))));
    }

    public int Version { get; }

    public string Name { get; }

    public string Sql { get; }

    /// <summary>SHA-256 of the SQL text, lower-case hex; stored in <c>schema_migrations</c> when applied.</summary>
    public string Checksum { get; }

    public string FileName => $"{Version.ToString("D4", CultureInfo.InvariantCulture)}_{Name}.sql";

    /// <summary>The migrations compiled into this assembly, in version order.</summary>
    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    private static List<Migration> LoadEmbedded()
    {
        var assembly = typeof(Migration).Assembly;
        var migrations = new List<Migration>();
        foreach (var resourceName in assembly.GetManifestResourceNames().Where(name => name.StartsWith("Migrations/", StringComparison.Ordinal)))
        {
            var match = FileNamePattern().Match(resourceName["Migrations/".Length..]);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Migration resource '{resourceName}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resourceName)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new Migration(int.Parse(match.Groups["version"].Value, CultureInfo.InvariantCulture), match.Groups["name"].Value, reader.ReadToEnd()));
        }

        var duplicate = migrations.GroupBy(migration => migration.Version).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key}: {string.Join(", ", duplicate.Select(m => m.FileName))}.");
        }

        return migrations.OrderBy(migration => migration.Version).ToList();
    }

    [GeneratedRegex(@"^(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex FileNamePattern();
}
