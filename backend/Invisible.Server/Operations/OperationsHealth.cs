using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Invisible.Data.Access;
using Invisible.Data.Backups;
using Invisible.Data.Health;
using Invisible.Data.Migrations;
using Invisible.Data.Provisioning;
using Invisible.Data.Secrets;
using LinqToDB.Data;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Server.Operations;

/// <summary>
/// What <c>invisible health</c> checks, found without starting anything: the running product's database (the embedded cluster's
/// port from its <c>postmaster.pid</c>, or <c>ConnectionStrings:PostgresApp</c>), the data directory, the backup repository and
/// the configured TLS certificate.
/// </summary>
public sealed record OperationsHealthContext(string DataDirectory, string? AppConnectionString, bool Embedded, BackupOptions Backup, string? TlsCertificatePath)
{
    public static async Task<OperationsHealthContext> FromAsync(IConfiguration configuration, string dataDirectory, CancellationToken cancellationToken)
    {
        var backup = configuration.GetSection(BackupOptions.SectionName).Get<BackupOptions>() ?? new BackupOptions();
        var certificate = configuration["Kestrel:Certificates:Default:Path"];
        if (configuration.GetConnectionString("PostgresApp") is { Length: > 0 } external)
        {
            return new OperationsHealthContext(dataDirectory, external, Embedded: false, backup, certificate);
        }

        // Line 4 of postmaster.pid is the port of the live postmaster; no file means the cluster is not running.
        var pidFile = Path.Combine(dataDirectory, "postgres", "postmaster.pid");
        string? connectionString = null;
        if (File.Exists(pidFile) && (await File.ReadAllLinesAsync(pidFile, cancellationToken)) is { Length: >= 4 } lines
                                  && int.TryParse(lines[3], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            connectionString = new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = port,
                Database = Database.DatabaseRuntime.EmbeddedDatabaseName,
                Username = DatabaseProvisioner.AppRole,
                Password = await DatabaseSecretsFile.InDataDirectory(dataDirectory).GetOrCreateAsync(DatabaseSecretsFile.AppPassword, cancellationToken),
            }.ConnectionString;
        }

        return new OperationsHealthContext(dataDirectory, connectionString, Embedded: true, backup, certificate);
    }
}

public static class OperationsHealthRegistration
{
    /// <summary>The tag of the checks an operator runs (<c>invisible health</c>); Healthy exits 0, Degraded 1, Unhealthy 2.</summary>
    public const string Tag = "operations";

    public static IServiceCollection AddOperationsHealthChecks(this IServiceCollection services, OperationsHealthContext context)
    {
        services.AddSingleton(context);
        services.AddHealthChecks()
            .AddCheck<DatabaseOperationsCheck>("database", tags: [Tag])
            .AddCheck<OutboxOperationsCheck>("outbox", tags: [Tag])
            .AddCheck<DiskOperationsCheck>("disk", tags: [Tag])
            .AddCheck<BackupOperationsCheck>("backups", tags: [Tag])
            .AddCheck<TlsCertificateOperationsCheck>("tls-certificate", tags: [Tag]);
        return services;
    }

    public static int ExitCode(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => 0,
        HealthStatus.Degraded => 1,
        _ => 2,
    };
}

internal sealed class DatabaseOperationsCheck(OperationsHealthContext context) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext check, CancellationToken cancellationToken = default)
    {
        if (context.AppConnectionString is null)
        {
            return HealthCheckResult.Unhealthy($"the embedded PostgreSQL cluster of {context.DataDirectory} is not running (no postmaster.pid)");
        }

        var report = await new DatabaseHealth(context.AppConnectionString, DatabaseMigrator.ForEmbeddedMigrations(NullLogger<DatabaseMigrator>.Instance))
            .CheckAsync(cancellationToken);
        if (!report.IsReachable)
        {
            return HealthCheckResult.Unhealthy($"unreachable: {report.Problem}");
        }

        return report.PendingMigrations.Count > 0
            ? HealthCheckResult.Degraded($"reachable, but migrations not applied: {string.Join(", ", report.PendingMigrations)} (restart the product to apply them)")
            : HealthCheckResult.Healthy("reachable, migrations current");
    }
}

internal sealed class OutboxOperationsCheck(OperationsHealthContext context) : IHealthCheck
{
    public static readonly TimeSpan LagWarning = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan LagCritical = TimeSpan.FromMinutes(30);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext check, CancellationToken cancellationToken = default)
    {
        if (context.AppConnectionString is null)
        {
            return HealthCheckResult.Unhealthy("database not running");
        }

        try
        {
            await using var connection = new NpgsqlConnection(context.AppConnectionString);
            await connection.OpenAsync(cancellationToken);
            using var db = ProductData.On(connection);
            // Raw SQL: a set-returning function of migration 0018, across tenants as its definer.
            var status = (await db.QueryToListAsync<OutboxStatus>("select pending, oldest_pending_seconds, dead_letters from operations_outbox_status()", cancellationToken))[0];
            var lag = TimeSpan.FromSeconds(status.OldestPendingSeconds);
            var data = new Dictionary<string, object> { ["pending"] = status.Pending, ["oldest_pending_seconds"] = Math.Round(status.OldestPendingSeconds), ["dead_letters"] = status.DeadLetters };
            var description = $"{status.Pending} undelivered (oldest {lag.TotalMinutes:N1} min), {status.DeadLetters} dead letter(s)";
            if (lag > LagCritical)
            {
                return HealthCheckResult.Unhealthy(description + $"; events wait longer than {LagCritical.TotalMinutes} min: is a worker running?", data: data);
            }

            return lag > LagWarning || status.DeadLetters > 0
                ? HealthCheckResult.Degraded(description + (status.DeadLetters > 0 ? "; see `invisible events dead-letters`" : string.Empty), data: data)
                : HealthCheckResult.Healthy(description, data);
        }
        catch (NpgsqlException exception)
        {
            return HealthCheckResult.Unhealthy($"could not read the outbox: {exception.Message}");
        }
    }

    private sealed class OutboxStatus
    {
        [LinqToDB.Mapping.Column("pending")] public long Pending { get; set; }

        [LinqToDB.Mapping.Column("oldest_pending_seconds")] public double OldestPendingSeconds { get; set; }

        [LinqToDB.Mapping.Column("dead_letters")] public long DeadLetters { get; set; }
    }
}

internal sealed class DiskOperationsCheck(OperationsHealthContext context) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext check, CancellationToken cancellationToken = default)
    {
        var drive = new DriveInfo(Path.GetFullPath(context.DataDirectory));
        var freeShare = (double)drive.AvailableFreeSpace / drive.TotalSize;
        var description = $"{drive.AvailableFreeSpace / (1024.0 * 1024 * 1024):N1} GiB free ({freeShare:P0}) on {drive.Name}";
        var data = new Dictionary<string, object> { ["free_bytes"] = drive.AvailableFreeSpace, ["free_ratio"] = Math.Round(freeShare, 4) };
        return Task.FromResult(freeShare switch
        {
            < 0.05 => HealthCheckResult.Unhealthy(description, data: data),
            < 0.10 => HealthCheckResult.Degraded(description, data: data),
            _ => HealthCheckResult.Healthy(description, data),
        });
    }
}

internal sealed class BackupOperationsCheck(OperationsHealthContext context) : IHealthCheck
{
    /// <summary>A daily backup plus two hours of slack, as the <c>BackupTooOld</c> alert.</summary>
    public static readonly TimeSpan AgeWarning = TimeSpan.FromHours(26);
    public static readonly TimeSpan AgeCritical = TimeSpan.FromHours(50);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext check, CancellationToken cancellationToken = default)
    {
        if (!context.Embedded)
        {
            return HealthCheckResult.Healthy("external database: backed up by its provider (see docs/operations.md)");
        }

        if (!context.Backup.Enabled)
        {
            return HealthCheckResult.Degraded("Backup:Enabled is false: no WAL archiving, no backups");
        }

        var catalog = await new EmbeddedBackups(context.DataDirectory, context.Backup, NullLogger.Instance).ListAsync(cancellationToken);
        if (catalog.Backups.Count == 0)
        {
            return HealthCheckResult.Degraded("no backup yet: run `invisible backup --type full`");
        }

        var newest = catalog.Backups[^1];
        var age = DateTimeOffset.UtcNow - newest.StoppedAt;
        var data = new Dictionary<string, object> { ["backup_age_seconds"] = Math.Round(age.TotalSeconds), ["newest_backup"] = newest.Label };
        var description = $"newest backup {newest.Label} is {age.TotalHours:N1} h old";
        if (catalog.LastArchivedAt is { } archived)
        {
            description += $"; WAL last archived {(DateTimeOffset.UtcNow - archived).TotalMinutes:N0} min ago ({catalog.NewestWal})";
            data["archive_age_seconds"] = Math.Round((DateTimeOffset.UtcNow - archived).TotalSeconds);
        }

        if (await ArchiveFailureAsync(cancellationToken) is { } failure)
        {
            return HealthCheckResult.Unhealthy(description + "; " + failure, data: data);
        }

        return age > AgeCritical ? HealthCheckResult.Unhealthy(description, data: data)
            : age > AgeWarning ? HealthCheckResult.Degraded(description, data: data)
            : HealthCheckResult.Healthy(description, data);
    }

    /// <summary>PostgreSQL's own account of archiving: a failure newer than the last success means WAL is piling up in the cluster.</summary>
    private async Task<string?> ArchiveFailureAsync(CancellationToken cancellationToken)
    {
        if (context.AppConnectionString is null)
        {
            return null;
        }

        try
        {
            await using var connection = new NpgsqlConnection(context.AppConnectionString);
            await connection.OpenAsync(cancellationToken);
            using var db = ProductData.On(connection);
            // Raw SQL: a statistics view of PostgreSQL's catalog.
            var failed = await db.QueryToListAsync<string>(
                "select last_failed_wal from pg_stat_archiver where last_failed_time > coalesce(last_archived_time, '-infinity')", cancellationToken);
            return failed.Count > 0 ? $"archiving is failing (last failed segment {failed[0]}; see DIR/pgbackrest/log)" : null;
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }
}

internal sealed class TlsCertificateOperationsCheck(OperationsHealthContext context) : IHealthCheck
{
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(14);
    public static readonly TimeSpan ExpiryCritical = TimeSpan.FromDays(3);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext check, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(context.TlsCertificatePath))
        {
            return Task.FromResult(HealthCheckResult.Healthy("no TLS certificate configured (Kestrel:Certificates:Default:Path)"));
        }

        if (!File.Exists(context.TlsCertificatePath))
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"the configured certificate {context.TlsCertificatePath} does not exist"));
        }

        using var certificate = X509CertificateLoader.LoadCertificateFromFile(context.TlsCertificatePath);
        var left = certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow;
        var description = $"{certificate.Subject} expires {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd} ({left.TotalDays:N0} days)";
        return Task.FromResult(left < ExpiryCritical ? HealthCheckResult.Unhealthy(description)
            : left < ExpiryWarning ? HealthCheckResult.Degraded(description)
            : HealthCheckResult.Healthy(description));
    }
}
