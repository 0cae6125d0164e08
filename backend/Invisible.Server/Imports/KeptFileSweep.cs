using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Blobs;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Imports;

/// <summary>The <c>Imports:KeptFiles</c> configuration section.</summary>
public sealed class KeptFileOptions
{
    public const string SectionName = "Imports:KeptFiles";

    /// <summary>
    /// How old an unreferenced kept file must be before it is removed: far longer than any import runs, because a file
    /// is written before its import commits and is unreferenced until then.
    /// </summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often the workers look for such files.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(6);
}

/// <summary>What one sweep removed.</summary>
public sealed record KeptFileSweepReport(int FilesRemoved, int ChunksRemoved);

/// <summary>
/// Removes kept copies of imported files that no import references: what an import killed between keeping its file and
/// committing leaves behind (a failed import that is still running removes its own). Runs in the workers, at start-up and
/// every <see cref="KeptFileOptions.SweepInterval"/>. A file is removed only when its name dates it (see
/// <see cref="KeptFiles"/>) older than <see cref="KeptFileOptions.OrphanGracePeriod"/>, so an import in progress never
/// loses its file; copies named before dated ids are left alone.
/// </summary>
public sealed class KeptFileSweep(
    TenantDirectory directory, TenantDatabase tenants, IBlobStore blobs, IOptions<KeptFileOptions> options, TimeProvider time, ILogger<KeptFileSweep> logger)
    : PeriodicBackgroundWork(options.Value.SweepInterval, time, logger, "Sweep of kept import files")
{
    private readonly KeptFileOptions _options = options.Value;

    public async Task<KeptFileSweepReport> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = Time.GetUtcNow() - _options.OrphanGracePeriod;
        int files = 0, chunks = 0;
        foreach (var tenantId in (await directory.ListAsync(cancellationToken)).Select(tenant => tenant.Id))
        {
            var root = KeptFiles.Root(tenantId);
            var byFile = (await blobs.ListAsync(root, cancellationToken))
                .GroupBy(name => name[root.Length..].Split('/')[0], StringComparer.Ordinal)
                .Where(file => KeptFiles.TryGetKeptAt(file.Key, out var keptAt) && keptAt < cutoff)
                .ToList();
            if (byFile.Count == 0)
            {
                continue;
            }

            HashSet<string> referenced;
            await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
            {
                referenced = (await unitOfWork.Db.GetTable<KeptImportRow>()
                        .Where(import => import.ContentBlob != null)
                        .Select(import => import.ContentBlob!)
                        .ToListAsync(cancellationToken))
                    .ToHashSet(StringComparer.Ordinal);
            }

            foreach (var file in byFile.Where(file => !referenced.Contains($"{root}{file.Key}/")))
            {
                foreach (var chunk in file)
                {
                    await blobs.DeleteAsync(chunk, cancellationToken);
                    chunks++;
                }

                files++;
            }
        }

        return new KeptFileSweepReport(files, chunks);
    }

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var report = await SweepAsync(cancellationToken);
        if (report.FilesRemoved > 0)
        {
            Logger.LogInformation(
                "Removed {Files} kept import files ({Chunks} chunks) that no import references, older than {GracePeriod}",
                report.FilesRemoved, report.ChunksRemoved, _options.OrphanGracePeriod);
        }
    }
}

/// <summary>The columns of <c>imports</c> that say where an import's file is kept (row-level security keeps them to the tenant).</summary>
[Table("imports")]
internal sealed class KeptImportRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; init; }

    [Column("import_no")] public long ImportNo { get; init; }

    [Column("file_name")] public string FileName { get; init; } = "";

    [Column("content_sha256")] public byte[] ContentSha256 { get; init; } = [];

    /// <summary>The blob prefix of the kept copy; null when the file was not kept.</summary>
    [Column("content_blob")] public string? ContentBlob { get; init; }
}
