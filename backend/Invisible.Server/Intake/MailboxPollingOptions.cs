using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.Intake;

/// <summary>Configuration section <c>Email:Intake:Imap</c>: polling the mailboxes tenants connected.</summary>
public sealed class MailboxPollingOptions
{
    public const string Section = "Email:Intake:Imap";

    /// <summary>Whether this process polls connected mailboxes (where intake runs by default).</summary>
    public bool? Enabled { get; set; }

    /// <summary>How often a mailbox whose server lacks IDLE is polled, and how often new or changed mailboxes are noticed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The longest one IDLE lasts before it is re-issued; servers drop an IDLE after 30 minutes (RFC 2177), and a shorter
    /// one also notices a changed or disconnected mailbox sooner.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:29:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(9);
}
