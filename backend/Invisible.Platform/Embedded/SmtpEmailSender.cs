using System.Net;
using System.Net.Mail;
using System.Text;
using Invisible.Platform.Email;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using EmailAddress = Invisible.Platform.Email.EmailAddress;

namespace Invisible.Platform.Embedded;

/// <summary>Embedded mode's e-mail when <c>Email:Smtp:Host</c> is configured: SMTP with STARTTLS and the <c>smtp-password</c> secret.</summary>
public sealed class SmtpEmailSender(IOptions<EmailOptions> options, ISecretStore secrets, ILogger<SmtpEmailSender> logger) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var email = options.Value;
        var smtp = email.Smtp;
        using var client = new SmtpClient(smtp.Host, smtp.Port) { EnableSsl = smtp.UseTls, DeliveryMethod = SmtpDeliveryMethod.Network };
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            client.Credentials = new NetworkCredential(smtp.UserName, await secrets.GetSecretAsync(SecretNames.SmtpPassword, cancellationToken));
        }

        using var mail = new MailMessage
        {
            From = ToMailAddress(email.From),
            Subject = message.Subject,
            SubjectEncoding = Encoding.UTF8,
            Body = message.TextBody,
            BodyEncoding = Encoding.UTF8,
            HeadersEncoding = Encoding.UTF8,
        };
        foreach (var recipient in message.To)
        {
            mail.To.Add(ToMailAddress(recipient));
        }

        if (message.HtmlBody is not null)
        {
            mail.AlternateViews.Add(AlternateView.CreateAlternateViewFromString(message.HtmlBody, Encoding.UTF8, "text/html"));
        }

        await client.SendMailAsync(mail, cancellationToken);
        logger.LogInformation("E-mail sent through {Host}:{Port} to {Count} recipient(s)", smtp.Host, smtp.Port, message.To.Count);
    }

    private static MailAddress ToMailAddress(EmailAddress address) => new(address.Address, address.DisplayName, Encoding.UTF8);
}
