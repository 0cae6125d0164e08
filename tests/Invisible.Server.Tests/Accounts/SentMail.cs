using MimeKit;

namespace Invisible.Server.Tests.Accounts;

/// <summary>The e-mails the product wrote to its <c>.eml</c> folder (embedded mode's sender), read with MimeKit.</summary>
public static class SentMail
{
    /// <summary>Every message to <paramref name="recipient"/> so far, oldest first.</summary>
    public static IReadOnlyList<MimeMessage> To(string folder, string recipient) =>
        !Directory.Exists(folder) ? [] : Directory.GetFiles(folder, "*.eml").Order(StringComparer.Ordinal)
            .Select(path => MimeMessage.Load(path))
            .Where(message => message.To.Mailboxes.Any(mailbox => string.Equals(mailbox.Address, recipient, StringComparison.OrdinalIgnoreCase)))
            .ToList();

    /// <summary>Waits until <paramref name="count"/> messages to the recipient have been written (they are sent after the call answered).</summary>
    public static async Task<IReadOnlyList<MimeMessage>> WaitForAsync(string folder, string recipient, int count = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var messages = To(folder, recipient);
            if (messages.Count >= count)
            {
                return messages;
            }

            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{messages.Count} of {count} e-mails to {recipient} arrived in {folder} within 30 s.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The token of the reset link in the message's text.</summary>
    public static string ResetToken(MimeMessage message) => ResetLink(message).Fragment.TrimStart('#').Split('&')
        .Select(pair => pair.Split('=', 2)).Single(pair => pair[0] == "token")[1] is var token ? Uri.UnescapeDataString(token) : "";

    public static Uri ResetLink(MimeMessage message) =>
        new((message.TextBody ?? "").Split('\n').Select(line => line.Trim()).Single(line => line.Contains("/reset-password#", StringComparison.Ordinal)));
}
