using MimeKit;

namespace Invisible.Platform.Email;

/// <summary>
/// Turns an <see cref="EmailMessage"/> into a MimeKit <see cref="MimeMessage"/> (RFC 5322 with MIME bodies: Date and
/// Message-ID headers, encoded-words for non-ASCII header text, folding, multipart/alternative when there is HTML),
/// which embedded mode writes to a file or hands to SMTP.
/// </summary>
public static class EmailMimeMessage
{
    /// <summary>CRLF line ends, as RFC 5322 requires, whatever the platform (MimeKit's default follows the platform).</summary>
    public static FormatOptions WireFormat { get; } = CreateWireFormat();

    /// <param name="messageId">Without angle brackets, e.g. <c>3f2a…@invisible.local</c>.</param>
    public static MimeMessage Create(EmailMessage message, EmailAddress from, DateTimeOffset date, string messageId)
    {
        if (message.To.Count == 0)
        {
            throw new ArgumentException("An e-mail needs at least one recipient.", nameof(message));
        }

        var mime = new MimeMessage
        {
            Date = date.ToUniversalTime(),
            MessageId = RejectLineBreaks(messageId, "message id"),
            Subject = RejectLineBreaks(message.Subject, "subject"),
        };
        mime.From.Add(Mailbox(from));
        mime.To.AddRange(message.To.Select(Mailbox));

        var body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody };
        mime.Body = body.ToMessageBody();
        foreach (var part in mime.BodyParts.OfType<TextPart>())
        {
            // Base64 keeps every line short and 7-bit whatever the text.
            part.ContentTransferEncoding = ContentEncoding.Base64;
        }

        return mime;
    }

    private static FormatOptions CreateWireFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    private static MailboxAddress Mailbox(EmailAddress address)
    {
        var mailbox = RejectLineBreaks(address.Address, "address");
        if (mailbox.Any(c => c is '<' or '>' or ',' or ' ' || c > 0x7E) || !mailbox.Contains('@', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{mailbox}' is not a plain local@domain e-mail address.", nameof(address));
        }

        return new MailboxAddress(address.DisplayName is null ? null : RejectLineBreaks(address.DisplayName, "display name"), mailbox);
    }

    // MimeKit would encode a line break rather than let it through; refusing it says the caller has a bug.
    private static string RejectLineBreaks(string value, string what) =>
        value.AsSpan().IndexOfAny('\r', '\n') >= 0
            ? throw new ArgumentException($"The e-mail {what} must not contain a line break.", nameof(value))
            : value;
}
