using System.Diagnostics;
using System.Text.Json;
using Invisible.Data.Backups;
using Invisible.Data.Health;
using Invisible.Data.Migrations;
using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Platform.Events;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Server.Integrity;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Operations;

/// <summary>One thing the drill found different from what the backup recorded.</summary>
public sealed record DrillDifference(string Check, string Detail);

/// <summary>The outcome of one restore drill; <see cref="RestoreTime"/> is the measured RTO (restore, recovery, migrations, product open).</summary>
public sealed record DrillReport(
    DateTimeOffset RanAt, string? BackupLabel, TimeSpan RestoreTime, int TablesCompared, int BlobsCompared, int TenantsVerified,
    IReadOnlyList<DrillDifference> Differences)
{
    public bool Passed => Differences.Count == 0;
}

/// <summary>
/// <c>invisible backup verify</c>: restores the newest backup into a scratch data directory, starts the product on it and checks
/// that it is the backup it claims to be: migrations current, rows per table and every blob's SHA-256 as the manifest written at
/// backup time, every tenant's audit chain, kept files and isolation intact. Cleans up whatever the outcome, and records it in
/// <c>DIR/pgbackrest/last-drill.json</c> (for <c>invisible health</c> and the worker).
/// </summary>
public sealed class RestoreDrill(string dataDirectory, ILogger<RestoreDrill> logger)
{
    public const string OutcomeFileName = "last-drill.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // The invariants that say the copy is whole; the others (imports, decisions) are about how writes interleave and are `invisible verify`'s.
    private static readonly string[] CopyInvariants = [InvariantChecks.AuditChain.Name, InvariantChecks.KeptFilesMatch.Name, InvariantChecks.TenantIsolation.Name];

    public string OutcomeFile => Path.Combine(Path.GetFullPath(dataDirectory), "pgbackrest", OutcomeFileName);

    public async Task<DrillReport> RunAsync(ProductLoggingOptions logging, CancellationToken cancellationToken)
    {
        var ranAt = DateTimeOffset.UtcNow;
        var scratch = Path.Combine(Path.GetFullPath(dataDirectory), "restore-drill");
        DeleteScratch(scratch);
        var clock = Stopwatch.StartNew();
        var differences = new List<DrillDifference>();
        string? label = null;
        int tables = 0, blobs = 0, tenantCount = 0;
        try
        {
            RestoreResult restored;
            try
            {
                restored = await EmbeddedBackups.RestoreAsync(new RestoreRequest(dataDirectory, scratch, BackupEnd: true), logger, cancellationToken);
            }
            catch (Exception exception) when (exception is InvalidOperationException or InvalidDataException or RestoreRefusedException or IOException)
            {
                differences.Add(new DrillDifference("restore", exception.Message.Split('\n')[0].Trim() + " " + LastLines(exception.Message)));
                return await RecordAsync(new DrillReport(ranAt, label, clock.Elapsed, 0, 0, 0, differences), cancellationToken);
            }

            label = restored.Backup.Label;
            await using var product = await LocalProduct.OpenAsync(
                scratch, logging, cancellationToken, [new($"{BackupOptions.SectionName}:{nameof(BackupOptions.Enabled)}", "false")]);
            var restoreTime = clock.Elapsed;
            var database = product.Services.GetRequiredService<DatabaseRuntime>();

            var health = await new DatabaseHealth(database.ConnectionStrings.OwnerConnectionString, DatabaseMigrator.ForEmbeddedMigrations(NullLogger<DatabaseMigrator>.Instance))
                .CheckAsync(cancellationToken);
            if (!health.IsHealthy)
            {
                differences.Add(new DrillDifference("migrations", health.Problem ?? $"pending: {string.Join(", ", health.PendingMigrations)}"));
            }

            var counts = await BackupManifest.CountRowsAsync(database.Cluster!.SuperuserConnectionString(DatabaseRuntime.EmbeddedDatabaseName), cancellationToken);
            foreach (var (table, expected) in restored.Manifest.RowCounts)
            {
                tables++;
                var actual = counts.TryGetValue(table, out var count) ? count : (long?)null;
                if (actual != expected)
                {
                    differences.Add(new DrillDifference("row-counts", $"{table}: {expected} rows at backup time, {(actual is { } restoredCount ? restoredCount.ToString(System.Globalization.CultureInfo.InvariantCulture) : "table missing")} restored"));
                }
            }

            var hashes = await BackupManifest.HashBlobsAsync(Path.Combine(scratch, FileSystemBlobStore.FolderName), cancellationToken);
            foreach (var (blob, expected) in restored.Manifest.BlobSha256)
            {
                blobs++;
                if (!hashes.TryGetValue(blob, out var actual) || actual != expected)
                {
                    differences.Add(new DrillDifference("blobs", $"{blob}: {(actual is null ? "missing" : "SHA-256 differs")}"));
                }
            }

            var tenants = await product.Services.GetRequiredService<TenantDirectory>().ListAsync(cancellationToken);
            tenantCount = tenants.Count;
            var blobStore = new FileSystemBlobStore(Options.Create(new RuntimeOptions { DataDirectory = scratch }));
            var checks = new InvariantChecks(product.Services.GetRequiredService<TenantDatabase>(), blobStore, new EventsOptions());
            foreach (var result in (await checks.CheckAsync(tenants, cancellationToken)).Where(result => CopyInvariants.Contains(result.Invariant.Name) && !result.Holds))
            {
                differences.AddRange(result.Violations.Select(violation => new DrillDifference(result.Invariant.Name, $"{violation.Tenant}: {violation.Detail}")));
            }

            return await RecordAsync(new DrillReport(ranAt, label, restoreTime, tables, blobs, tenantCount, differences), cancellationToken);
        }
        finally
        {
            DeleteScratch(scratch);
        }
    }

    /// <summary>The outcome the last drill recorded, or null when none ran.</summary>
    public async Task<DrillReport?> LastAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(OutcomeFile))
        {
            return null;
        }

        await using var stream = File.OpenRead(OutcomeFile);
        return await JsonSerializer.DeserializeAsync<DrillReport>(stream, cancellationToken: cancellationToken);
    }

    private async Task<DrillReport> RecordAsync(DrillReport report, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(OutcomeFile)!);
        await File.WriteAllBytesAsync(OutcomeFile, JsonSerializer.SerializeToUtf8Bytes(report, Indented), cancellationToken);
        if (report.Passed)
        {
            logger.LogInformation("Restore drill of {Backup} passed: restored and opened in {Seconds:N1} s", report.BackupLabel, report.RestoreTime.TotalSeconds);
        }
        else
        {
            logger.LogError("Restore drill of {Backup} FAILED with {Count} difference(s), first: {First}", report.BackupLabel, report.Differences.Count, report.Differences[0].Detail);
        }

        return report;
    }

    private static string LastLines(string message) =>
        string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1).TakeLast(2));

    private void DeleteScratch(string scratch)
    {
        try
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
        catch (IOException exception)
        {
            logger.LogWarning(exception, "Could not remove the drill's scratch directory {Scratch}", scratch);
        }
    }
}
