using System.Security.Cryptography;
using System.Text.Json;
using Invisible.Data.Access;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Data.Backups;

/// <summary>
/// What a backup held when it was taken, for the restore drill to compare against: rows per table of the product's database
/// and the SHA-256 of every blob. Written into the backup itself (inside its encrypted files bundle).
/// </summary>
public sealed record BackupManifest(DateTimeOffset TakenAt, IReadOnlyDictionary<string, long> RowCounts, IReadOnlyDictionary<string, string> BlobSha256)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Counts every table of the <c>public</c> schema, as the superuser (who sees past row-level security), in one snapshot.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> CountRowsAsync(string superuserConnectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(superuserConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        using var db = ProductData.On(transaction);
        // SQL: the table names come from the catalog, and LINQ cannot count a table named at run time.
        var tables = await db.QueryToListAsync<string>(
            "select tablename from pg_tables where schemaname = 'public' order by tablename", cancellationToken);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            counts[table] = await db.ExecuteAsync<long>($"select count(*) from public.\"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", cancellationToken);
        }

        return counts;
    }

    /// <summary>SHA-256 (hex) of every file under <paramref name="blobDirectory"/>, by path relative to it.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> HashBlobsAsync(string blobDirectory, CancellationToken cancellationToken)
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(blobDirectory))
        {
            return hashes;
        }

        foreach (var file in Directory.EnumerateFiles(blobDirectory, "*", SearchOption.AllDirectories))
        {
            await using var stream = File.OpenRead(file);
            hashes[Path.GetRelativePath(blobDirectory, file)] = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        }

        return hashes;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Indented);

    public static BackupManifest FromJson(Stream json) =>
        JsonSerializer.Deserialize<BackupManifest>(json) ?? throw new InvalidDataException("The backup's manifest is empty.");
}
