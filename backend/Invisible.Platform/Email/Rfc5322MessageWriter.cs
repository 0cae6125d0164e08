using System.Globalization;
using System.Text;

namespace Invisible.Platform.Email;

/// <summary>
/// Writes an <see cref="EmailMessage"/> as an Internet Message Format (RFC 5322) document with MIME (RFC 2045–2047)
/// bodies: CRLF line ends, Date and Message-ID headers, non-ASCII header text as encoded-words, UTF-8 bodies in
/// base64 so no line exceeds 78 characters whatever the text.
/// </summary>
public static class Rfc5322MessageWriter
{
    private const string CrLf = "\r\n";
    private const int Base64LineLength = 76;
    private const int MaxLineLength = 78;

    /// <param name="messageId">Without angle brackets, e.g. <c>3f2a…@invisible.local</c>.</param>
    public static string Write(EmailMessage message, EmailAddress from, DateTimeOffset date, string messageId)
    {
        if (message.To.Count == 0)
        {
            throw new ArgumentException("An e-mail needs at least one recipient.", nameof(message));
        }

        var text = new StringBuilder();
        AppendHeader(text, "Date", date.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture));
        AppendHeader(text, "From", FormatAddress(from));
        AppendHeader(text, "To", string.Join(", ", message.To.Select(FormatAddress)));
        AppendHeader(text, "Subject", EncodeText(RejectLineBreaks(message.Subject, "subject")));
        AppendHeader(text, "Message-ID", $"<{RejectLineBreaks(messageId, "message id")}>");
        AppendHeader(text, "MIME-Version", "1.0");

        if (message.HtmlBody is null)
        {
            AppendBodyPart(text, "text/plain", message.TextBody);
            return text.ToString();
        }

        var boundary = $"=_{Guid.NewGuid():N}";
        AppendHeader(text, "Content-Type", $"multipart/alternative; boundary=\"{boundary}\"");
        text.Append(CrLf);
        text.Append("--").Append(boundary).Append(CrLf);
        AppendBodyPart(text, "text/plain", message.TextBody);
        text.Append("--").Append(boundary).Append(CrLf);
        AppendBodyPart(text, "text/html", message.HtmlBody);
        text.Append("--").Append(boundary).Append("--").Append(CrLf);
        return text.ToString();
    }

    private static void AppendBodyPart(StringBuilder text, string mediaType, string body)
    {
        AppendHeader(text, "Content-Type", $"{mediaType}; charset=utf-8");
        AppendHeader(text, "Content-Transfer-Encoding", "base64");
        text.Append(CrLf);
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(body));
        for (var start = 0; start < encoded.Length; start += Base64LineLength)
        {
            text.Append(encoded, start, Math.Min(Base64LineLength, encoded.Length - start)).Append(CrLf);
        }
    }

    /// <summary>Writes a header folded at whitespace so no line exceeds 78 characters (RFC 5322 §2.1.1, §2.2.3).</summary>
    private static void AppendHeader(StringBuilder text, string name, string value)
    {
        foreach (var physicalLine in $"{name}: {value}".Split(CrLf))
        {
            var line = physicalLine;
            while (line.Length > MaxLineLength)
            {
                // Fold before a space; the space stays, so unfolding (removing the CRLF) restores the value exactly.
                var fold = line.LastIndexOf(' ', MaxLineLength);
                if (fold <= name.Length)
                {
                    break;
                }

                text.Append(line, 0, fold).Append(CrLf);
                line = line[fold..];
            }

            text.Append(line).Append(CrLf);
        }
    }

    private static string FormatAddress(EmailAddress address)
    {
        var mailbox = RejectLineBreaks(address.Address, "address");
        if (mailbox.Any(c => c is '<' or '>' or ',' or ' ' || c > 0x7E) || !mailbox.Contains('@', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{mailbox}' is not a plain local@domain e-mail address.", nameof(address));
        }

        if (string.IsNullOrEmpty(address.DisplayName))
        {
            return mailbox;
        }

        var name = RejectLineBreaks(address.DisplayName, "display name");
        var displayName = IsPrintableAscii(name)
            ? $"\"{name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\""
            : EncodeText(name);
        return $"{displayName} <{mailbox}>";
    }

    /// <summary>RFC 2047 encoded-words (base64), split so each fits a header line and no UTF-8 sequence is cut.</summary>
    private static string EncodeText(string value)
    {
        if (IsPrintableAscii(value))
        {
            return value;
        }

        const int maxBytesPerWord = 39; // 52 base64 characters + "=?utf-8?B?" + "?=" = 64, so "Subject: " + one word fits 78
        var words = new List<string>();
        var chunk = new StringBuilder();
        var chunkBytes = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (chunkBytes + rune.Utf8SequenceLength > maxBytesPerWord)
            {
                words.Add(EncodedWord(chunk.ToString()));
                chunk.Clear();
                chunkBytes = 0;
            }

            chunk.Append(rune.ToString());
            chunkBytes += rune.Utf8SequenceLength;
        }

        words.Add(EncodedWord(chunk.ToString()));

        // Folding whitespace between encoded-words is not part of the decoded text (RFC 2047 §6.2).
        return string.Join(CrLf + " ", words);
    }

    private static string EncodedWord(string text) => $"=?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(text))}?=";

    private static bool IsPrintableAscii(string value) => value.All(c => c is >= ' ' and <= '~');

    // A CR or LF in a header value would let the text inject headers of its own.
    private static string RejectLineBreaks(string value, string what) =>
        value.AsSpan().IndexOfAny('\r', '\n') >= 0
            ? throw new ArgumentException($"The e-mail {what} must not contain a line break.", nameof(value))
            : value;
}
