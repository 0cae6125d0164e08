using Invisible.Platform.Email;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Embedded;

/// <summary>
/// Delivers e-mail as <c>.eml</c> files under <c>{data directory}/mail</c>, one per message, which any mail client opens.
/// This is the embedded default: nothing leaves the machine until an operator configures a real channel (dapr mode's
/// <c>email</c> binding).
/// </summary>
public sealed class EmlFileEmailSender(IOptions<RuntimeOptions> runtime, IOptions<EmailOptions> email, TimeProvider clock, ILogger<EmlFileEmailSender> logger)
    : IEmailSender
{
    public const string FolderName = "mail";

    private readonly string _folder = Path.Combine(Path.GetFullPath(runtime.Value.DataDirectory), FolderName);

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        var sentAt = clock.GetUtcNow();
        using var mime = EmailMimeMessage.Create(message, email.Value.From, sentAt, $"{id}@{DomainOf(email.Value.FromAddress)}");

        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, $"{sentAt:yyyyMMdd'T'HHmmss'Z'}-{id}.eml");
        // Written aside and moved into place, so whoever watches the folder never reads half a message.
        var partial = path + ".partial";
        await mime.WriteToAsync(EmailMimeMessage.WireFormat, partial, cancellationToken);
        File.Move(partial, path);

        // Recipients are personal data; the file name is enough to find the message.
        logger.LogInformation("E-mail written to {Path}", path);
    }

    private static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];
}
