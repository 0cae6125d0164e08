using System.Text.RegularExpressions;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Invisible.Server.Tests.Notifications;

/// <summary>The e-mails the running product wrote to its embedded <c>mail/</c> folder (<see cref="EmlFileEmailSender"/>).</summary>
internal static partial class NotificationMail
{
    public static string Folder(AccountsServer server) => Path.Combine(
        Path.GetFullPath(server.Server.Services.GetRequiredService<IOptions<RuntimeOptions>>().Value.DataDirectory), EmlFileEmailSender.FolderName);

    public static IReadOnlyList<MimeMessage> To(AccountsServer server, string address)
    {
        var folder = Folder(server);
        return !Directory.Exists(folder)
            ? []
            : Directory.GetFiles(folder, "*.eml").Order(StringComparer.Ordinal)
                .Select(Load)
                .OfType<MimeMessage>()
                .Where(message => message.To.Mailboxes.Any(mailbox => string.Equals(mailbox.Address, address, StringComparison.OrdinalIgnoreCase)))
                .ToList();
    }

    // A message being written is read on the next look.
    private static MimeMessage? Load(string path)
    {
        try
        {
            return MimeMessage.Load(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Waits for the first e-mail to <paramref name="address"/> whose subject starts with <paramref name="subjectStart"/>.</summary>
    public static async Task<MimeMessage> EventuallyAsync(AccountsServer server, string address, string subjectStart)
    {
        MimeMessage? found = null;
        await QueueTenant.EventuallyAsync(
            () => Task.FromResult((found = To(server, address).FirstOrDefault(message => message.Subject?.StartsWith(subjectStart, StringComparison.Ordinal) == true)) is not null),
            $"an e-mail '{subjectStart}…' to {address}");
        return found!;
    }

    public static string UnsubscribeToken(MimeMessage message) =>
        Uri.UnescapeDataString(UnsubscribeLink().Match(message.TextBody ?? "").Groups["token"].Value);

    [GeneratedRegex(@"/unsubscribe#token=(?<token>[A-Za-z0-9%_\-\.]+)")]
    private static partial Regex UnsubscribeLink();
}
