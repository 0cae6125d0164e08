using System.Net;
using Invisible.Platform.Email;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// <see cref="IEmailSender"/> on the <c>email</c> output binding (bindings.smtp, <c>create</c>): the binding sends the
/// data as an HTML body and takes sender, recipients and subject from request metadata.
/// </summary>
public sealed class DaprEmailSender(DaprBindingClient bindings, IOptions<EmailOptions> options) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        if (message.To.Count == 0)
        {
            throw new ArgumentException("An e-mail needs at least one recipient.", nameof(message));
        }

        var metadata = new Dictionary<string, string>
        {
            ["emailFrom"] = options.Value.FromAddress,
            ["emailTo"] = string.Join(';', message.To.Select(to => to.Address)),
            ["subject"] = message.Subject,
        };
        var html = message.HtmlBody ?? $"<pre>{WebUtility.HtmlEncode(message.TextBody)}</pre>";
        using var response = await bindings.InvokeAsync(DaprComponents.Email, "create", html, metadata, cancellationToken);
    }
}
