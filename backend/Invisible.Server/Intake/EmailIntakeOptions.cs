using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.Intake;

/// <summary>Configuration section <c>Email:Intake</c>: the SMTP listener and how messages are read.</summary>
public sealed class EmailIntakeOptions
{
    public const string Section = "Email:Intake";

    /// <summary>Whether this process runs the SMTP listener (the api role by default; a worker in dapr mode may run it instead).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The address to listen on; loopback by default, so only a relay on this machine (or a forward) reaches it.</summary>
    [Required]
    public string Listen { get; set; } = "127.0.0.1";

    /// <summary>0 picks a free port (written to endpoints.json as "smtp").</summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    /// <summary>A tenant receives at <c>&lt;tenant-slug&gt;@Domain</c>, and at the aliases its admin adds.</summary>
    [Required]
    public string Domain { get; set; } = "invoices.localhost";

    /// <summary>Announced in EHLO (SIZE) and enforced while the message is received.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxMessageBytes { get; set; } = 25 * 1024 * 1024;

    /// <summary>A PEM certificate (with its key in <see cref="CertificateKeyPath"/>) turns on STARTTLS.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificateKeyPath { get; set; }

    /// <summary>Messages one sender IP may hand over per minute; beyond that MAIL FROM is answered 421 (try later).</summary>
    [Range(1, 100_000)]
    public int MessagesPerMinutePerIp { get; set; } = 60;

    /// <summary>Answer each processed message with its outcome through the e-mail building block.</summary>
    public bool ReplyToSender { get; set; }
}
