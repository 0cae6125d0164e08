using System.Globalization;
using Invisible.Data.Retention;
using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Blobs;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Server.Operations;

/// <summary>One tenant's part of a retention run.</summary>
public sealed record TenantRetentionOutcome(TenantRecord Tenant, TenantRetentionReport Report);

/// <summary>What a retention run removed (or, dry, would remove): per tenant and table, and the system log files past 90 days.</summary>
public sealed record RetentionRunReport(DateTimeOffset RanAt, bool DryRun, IReadOnlyList<TenantRetentionOutcome> Tenants, IReadOnlyList<string> LogFiles)
{
    /// <summary>Rows per table summed over the tenants, in the order the run visits the tables.</summary>
    public IReadOnlyList<RetentionTableCount> Totals =>
        Tenants.SelectMany(tenant => tenant.Report.Tables)
            .GroupBy(table => table.Table, StringComparer.Ordinal)
            .Select(table => new RetentionTableCount(table.Key, table.Sum(count => count.Rows)))
            .ToList();
}

/// <summary>
/// The retention run behind <c>invisible retention run</c> and the worker's daily job: each tenant (or one) pruned in its own
/// transaction by <see cref="RetentionPruning"/>, then the kept files of what it removed deleted from the blob store, then the
/// product's and PostgreSQL's log files older than <see cref="RetentionPolicy.SystemLogRetention"/> removed from the data directory.
/// </summary>
public sealed class RetentionRun(
    string ownerConnectionString, string? clusterDirectory, TenantDirectory directory, IBlobStore blobs, string dataDirectory, TimeProvider time, ILogger logger)
{
    public RetentionRun(DatabaseRuntime database, TenantDirectory directory, IBlobStore blobs, string dataDirectory, TimeProvider time, ILogger logger)
        : this(database.ConnectionStrings.OwnerConnectionString, database.Cluster?.ClusterDirectory, directory, blobs, dataDirectory, time, logger)
    {
    }

    /// <summary>The actor of the audit entries a run writes.</summary>
    public const string Actor = "system:retention";

    /// <summary>When the worker's job last ran (written after each run), in the data directory.</summary>
    public static string LastRunFile(string dataDirectory) => Path.Combine(dataDirectory, "retention", "last-run");

    /// <exception cref="ArgumentException"><paramref name="tenantSlug"/> names no tenant.</exception>
    public async Task<RetentionRunReport> RunAsync(string? tenantSlug, bool dryRun, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var tenants = tenantSlug is null
            ? await directory.ListAsync(cancellationToken)
            : [await directory.FindBySlugAsync(tenantSlug, cancellationToken) ?? throw new ArgumentException($"No tenant {tenantSlug}.", nameof(tenantSlug))];
        var outcomes = new List<TenantRetentionOutcome>();
        await using (var owner = NpgsqlDataSource.Create(ownerConnectionString))
        {
            var pruning = new RetentionPruning(owner);
            foreach (var tenant in tenants)
            {
                var report = await pruning.PruneAsync(tenant.Id, now, dryRun, Actor, cancellationToken);
                outcomes.Add(new TenantRetentionOutcome(tenant, report));
                if (!dryRun)
                {
                    await DeleteBlobsAsync(report.Blobs, cancellationToken);
                    if (report.RowsRemoved > 0)
                    {
                        logger.LogInformation(
                            "Retention removed {Rows} rows of tenant {Tenant} (financial records to {FinancialCutoff}, audit entries before {AuditCutoff})",
                            report.RowsRemoved, tenant.Slug, report.FinancialCutoff, report.AuditCutoff);
                    }
                }
            }
        }

        var logFiles = SystemLogFiles.Expired(dataDirectory, clusterDirectory, now - RetentionPolicy.SystemLogRetention);
        if (!dryRun)
        {
            logFiles = SystemLogFiles.Delete(logFiles, logger);
            if (tenantSlug is null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(LastRunFile(dataDirectory))!);
                await File.WriteAllTextAsync(LastRunFile(dataDirectory), now.ToString("O", CultureInfo.InvariantCulture), cancellationToken);
            }
        }

        return new RetentionRunReport(now, dryRun, outcomes, logFiles);
    }

    /// <summary>When the last full run ended, or null when none ran in this data directory.</summary>
    public static DateTimeOffset? LastRun(string dataDirectory) =>
        File.Exists(LastRunFile(dataDirectory))
        && DateTimeOffset.TryParse(File.ReadAllText(LastRunFile(dataDirectory)), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var ranAt)
            ? ranAt
            : null;

    private async Task DeleteBlobsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            // An import's kept file is a prefix of chunks; an e-mail or a PDF one blob.
            var blobNames = name.EndsWith('/') ? await blobs.ListAsync(name, cancellationToken) : [name];
            foreach (var blob in blobNames)
            {
                await blobs.DeleteAsync(blob, cancellationToken);
            }
        }
    }
}

/// <summary>
/// The log files retention prunes: the product's rotated <c>DATA_DIR/logs/invisible-YYYY-MM-DD.log</c> and the embedded
/// cluster's <c>log/postgresql-YYYY-MM-DD.log</c> (in <c>DATA_DIR/postgres</c>, or where the cluster was placed).
/// </summary>
public static class SystemLogFiles
{
    /// <summary>The rotated log files of <paramref name="dataDirectory"/> last written before <paramref name="cutoff"/>.</summary>
    public static IReadOnlyList<string> Expired(string dataDirectory, string? clusterDirectory, DateTimeOffset cutoff)
    {
        var folders = new[]
        {
            (Folder: Path.GetDirectoryName(ProductLogging.LogFileIn(dataDirectory))!, Pattern: "invisible-*.log"),
            (Folder: Path.Combine(clusterDirectory ?? Path.Combine(dataDirectory, "postgres"), "log"), Pattern: "postgresql-*.log"),
        };
        return folders
            .Where(folder => Directory.Exists(folder.Folder))
            .SelectMany(folder => Directory.EnumerateFiles(folder.Folder, folder.Pattern))
            .Where(file => File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Deletes <paramref name="files"/>; returns those deleted (one the cluster's account owns may refuse: logged, kept).</summary>
    public static IReadOnlyList<string> Delete(IReadOnlyList<string> files, ILogger logger)
    {
        var deleted = new List<string>();
        foreach (var file in files)
        {
            try
            {
                File.Delete(file);
                deleted.Add(file);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not remove the expired log file {File}: {Reason}", file, exception.Message);
            }
        }

        return deleted;
    }
}

/// <summary>
/// The worker's daily retention run: looked at every hour (the first time an hour after start-up, like <see cref="BackupSchedule"/>),
/// run when the last one ended a day or more ago.
/// </summary>
internal sealed class RetentionSchedule(
    DatabaseRuntime database, TenantDirectory directory, IBlobStore blobs, IOptions<ServerOptions> server, TimeProvider time, ILogger<RetentionSchedule> logger)
    : PeriodicBackgroundWork(TimeSpan.FromHours(1), time, logger, "Scheduled retention run")
{
    private bool _startedUp;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!_startedUp)
        {
            _startedUp = true;
            return;
        }

        var dataDirectory = Path.GetFullPath(server.Value.DataDirectory);
        if (RetentionRun.LastRun(dataDirectory) is { } last && Time.GetUtcNow() - last < TimeSpan.FromDays(1))
        {
            return;
        }

        await new RetentionRun(database, directory, blobs, dataDirectory, Time, Logger).RunAsync(tenantSlug: null, dryRun: false, cancellationToken);
    }
}
