namespace Invisible.Platform.Email;

/// <summary>Sends e-mail (notifications, exception digests). The sender address comes from <see cref="EmailOptions"/>.</summary>
public interface IEmailSender
{
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}

/// <param name="To">At least one recipient.</param>
/// <param name="HtmlBody">Optional HTML alternative of <paramref name="TextBody"/>.</param>
public sealed record EmailMessage(IReadOnlyList<EmailAddress> To, string Subject, string TextBody, string? HtmlBody = null);

/// <param name="Address">A plain <c>local@domain</c> address.</param>
/// <param name="DisplayName">Optional, any Unicode text.</param>
public sealed record EmailAddress(string Address, string? DisplayName = null);
