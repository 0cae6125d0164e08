namespace Invisible.Data.Backups;

/// <summary>Backups of the embedded cluster (section <c>Backup</c>); see the README's Operations section.</summary>
public sealed class BackupOptions
{
    public const string SectionName = "Backup";

    /// <summary>WAL archiving and scheduled backups through pgBackRest; false leaves the cluster without archiving.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>pgBackRest's <c>repo1-path</c>: a folder for the default posix repository, the prefix inside a bucket otherwise (default <c>DATA_DIR/backups</c>).</summary>
    public string? RepositoryPath { get; set; }

    /// <summary>
    /// Further pgBackRest repository settings without their <c>repo1-</c> prefix, e.g. <c>type</c>=<c>s3</c>, <c>s3-bucket</c>,
    /// <c>s3-endpoint</c>, <c>s3-region</c>; keys pgBackRest reads from its environment (<c>PGBACKREST_REPO1_S3_KEY_SECRET</c>) stay there.
    /// </summary>
    public Dictionary<string, string> Repository { get; set; } = new(StringComparer.Ordinal);

    /// <summary>PostgreSQL's <c>archive_timeout</c>: the longest a committed change waits before its WAL segment is archived (the RPO).</summary>
    public TimeSpan ArchiveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Full backups kept (pgBackRest <c>repo1-retention-full</c>); WAL older than the oldest kept full backup is expired with it.</summary>
    public int FullBackupsKept { get; set; } = 5;

    /// <summary>The worker takes a full backup when the newest full one is older than this.</summary>
    public TimeSpan FullBackupInterval { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The worker takes an incremental backup when the newest backup of any type is older than this.</summary>
    public TimeSpan IncrementalBackupInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// With an external database: the connection <c>invisible backup</c>'s pg_dump uses (default <c>ConnectionStrings:Postgres</c>).
    /// Its role needs BYPASSRLS, as the tenant tables force row-level security even on their owner.
    /// </summary>
    public string? DumpConnectionString { get; set; }

    /// <summary>The worker runs the restore drill (<c>backup verify</c>) when the last one is older than this.</summary>
    public TimeSpan DrillInterval { get; set; } = TimeSpan.FromDays(30);
}
