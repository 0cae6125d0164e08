using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.Notifications;

/// <summary>The <c>Notifications</c> configuration section.</summary>
public sealed class NotificationsOptions
{
    public const string Section = "Notifications";

    /// <summary>The hour (0-23, UTC: tenants have no time zone of their own yet) from which each day's digest is sent.</summary>
    [Range(0, 23)]
    public int DigestHour { get; set; } = 7;

    /// <summary>How often the worker looks whether a tenant's digest is due.</summary>
    public TimeSpan DigestCheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>At most this many items of each list in a digest e-mail; the rest is counted.</summary>
    [Range(1, 1000)]
    public int DigestItemLimit { get; set; } = 20;
}
