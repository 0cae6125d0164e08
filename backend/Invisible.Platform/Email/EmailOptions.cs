using System.ComponentModel.DataAnnotations;

namespace Invisible.Platform.Email;

/// <summary>The <c>Email</c> configuration section.</summary>
public sealed class EmailOptions
{
    public const string SectionName = "Email";

    [Required]
    public string FromAddress { get; set; } = "no-reply@invisible.local";

    public string FromName { get; set; } = "Invisible";

    /// <summary>Embedded mode sends through this server when <see cref="SmtpOptions.Host"/> is set, else writes <c>.eml</c> files.</summary>
    public SmtpOptions Smtp { get; set; } = new();

    public EmailAddress From => new(FromAddress, FromName);
}

/// <summary>The <c>Email:Smtp</c> section. The password is the secret <c>smtp-password</c>, never configuration.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>Upgrade the connection with STARTTLS before authenticating.</summary>
    public bool UseTls { get; set; } = true;

    /// <summary>Authenticate as this user (with the <c>smtp-password</c> secret) when set.</summary>
    public string? UserName { get; set; }
}
