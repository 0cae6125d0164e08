using Invisible.Platform.Email;
using Invisible.Platform.Secrets;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Embedded;

/// <summary>
/// Embedded mode's e-mail when <c>Email:Smtp:Host</c> is configured: MailKit's SMTP client, with STARTTLS required when
/// <see cref="SmtpOptions.UseTls"/> and the <c>smtp-password</c> secret when <see cref="SmtpOptions.UserName"/> is set.
/// </summary>
public sealed class SmtpEmailSender(IOptions<EmailOptions> options, ISecretStore secrets, TimeProvider clock, ILogger<SmtpEmailSender> logger) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var email = options.Value;
        var smtp = email.Smtp;
        using var mime = EmailMimeMessage.Create(message, email.From, clock.GetUtcNow(), $"{Guid.NewGuid():N}@{DomainOf(email.FromAddress)}");

        using var client = new SmtpClient();
        await client.ConnectAsync(smtp.Host ?? throw new InvalidOperationException("Email:Smtp:Host is not set."), smtp.Port, smtp.UseTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, cancellationToken);
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, await secrets.GetSecretAsync(SecretNames.SmtpPassword, cancellationToken), cancellationToken);
        }

        await client.SendAsync(mime, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        logger.LogInformation("E-mail sent through {Host}:{Port} to {Count} recipient(s)", smtp.Host, smtp.Port, message.To.Count);
    }

    private static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];
}
