using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.Database;

/// <summary>How the host that owns the embedded cluster watches it and brings it back; configuration section "Database:Supervision".</summary>
public sealed class DatabaseSupervisionOptions
{
    public const string Section = "Database:Supervision";

    /// <summary>Off only to investigate a dead cluster by hand: nothing restarts it then.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the postmaster's liveness is checked (a file read and <c>/proc</c>, no connection).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Wait before the first restart attempt, doubled after every failed attempt up to <see cref="MaxBackoff"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);
}
