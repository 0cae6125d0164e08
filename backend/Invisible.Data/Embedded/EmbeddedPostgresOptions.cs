namespace Invisible.Data.Embedded;

/// <summary>Where and how the private PostgreSQL cluster of embedded mode runs.</summary>
public sealed class EmbeddedPostgresOptions
{
    /// <summary>The product's data directory; the cluster lives in its <c>postgres/</c> folder (see <see cref="EmbeddedPostgres.ClusterDirectory"/>).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Folder holding <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c>; when null, <c>pg_config --bindir</c>, then the highest <c>/usr/lib/postgresql/*/bin</c>.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>TCP port on 127.0.0.1; 0 picks a free one at every start.</summary>
    public int Port { get; init; }

    /// <summary>
    /// A throw-away cluster (tests): skips fsync and full-page writes, so it is much faster but may lose data if the machine crashes.
    /// Never set for a cluster holding real data.
    /// </summary>
    public bool Ephemeral { get; init; }

    /// <summary>
    /// WAL archiving (point-in-time recovery): the server hands every finished WAL segment to this command, and switches
    /// segments at least every <see cref="WalArchiving.Timeout"/>. Null: no archiving (tests, external tools).
    /// </summary>
    public WalArchiving? Archiving { get; init; }

    /// <summary>How long to wait for the server to start or stop.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>PostgreSQL's <c>archive_command</c> (with <c>%p</c> for the segment's path) and <c>archive_timeout</c>.</summary>
public sealed record WalArchiving(string Command, TimeSpan Timeout);
