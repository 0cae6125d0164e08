using System.Net;
using System.Text;
using Dapr.Client;
using Invisible.Platform.Email;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// <see cref="IEmailSender"/> on the <c>email</c> output binding (bindings.smtp, <c>create</c>): the binding sends the
/// data as an HTML body and takes sender, recipients and subject from request metadata.
/// </summary>
public sealed class DaprEmailSender(DaprClient dapr, IOptions<EmailOptions> options) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        if (message.To.Count == 0)
        {
            throw new ArgumentException("An e-mail needs at least one recipient.", nameof(message));
        }

        var html = message.HtmlBody ?? $"<pre>{WebUtility.HtmlEncode(message.TextBody)}</pre>";
        var request = new BindingRequest(DaprComponents.Email, "create")
        {
            Data = Encoding.UTF8.GetBytes(html),
            Metadata =
            {
                ["emailFrom"] = options.Value.FromAddress,
                ["emailTo"] = string.Join(';', message.To.Select(to => to.Address)),
                ["subject"] = message.Subject,
            },
        };
        await dapr.InvokeBindingAsync(request, cancellationToken);
    }
}
