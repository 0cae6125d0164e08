namespace Invisible.Ingestion.Mail;

/// <summary>What an attachment is to the intake: something to import, a PDF that may carry invoice data, or nothing to read.</summary>
public enum MailPartKind
{
    /// <summary>A CSV or XML file: handed to the import as an invoice file.</summary>
    InvoiceFile,

    /// <summary>A PDF: imported when it embeds invoice data (Factur-X), otherwise kept to be keyed by a person.</summary>
    Pdf,

    /// <summary>Not an invoice file (signature, logo, calendar invite, TNEF): recorded with a note, never imported.</summary>
    Ignored,

    /// <summary>An invoice-looking file that could not be read whole (broken zip, over a limit): recorded, nothing of it used.</summary>
    Unreadable,
}

/// <summary>
/// One attachment of a message. <see cref="Path"/> names where it sat: <c>invoice.csv</c>, <c>forwarded-1/invoice.xml</c>,
/// <c>invoices.zip/march/a.csv</c>. <see cref="Content"/> is complete or empty: a part that could not be decoded whole is
/// <see cref="MailPartKind.Unreadable"/> with no bytes, never a truncated file.
/// </summary>
public sealed record MailPart(string Path, string FileName, string ContentType, MailPartKind Kind, byte[] Content, string? Note)
{
    public long Size => Content.LongLength;
}

/// <summary>A failed sender check that a relay in front of us recorded (<c>Authentication-Results</c>).</summary>
/// <param name="Method">dkim or spf.</param>
/// <param name="Domain">The domain the check was about.</param>
public sealed record AuthenticationFailure(string Method, string Domain);

/// <summary>A message as the intake needs it: the envelope fields for the log and the attachments in document order.</summary>
/// <param name="MessageId">The Message-ID without angle brackets; null when the message has none.</param>
/// <param name="From">The sender's address, lower case; empty when the From header has no address.</param>
public sealed record MailReading(
    string? MessageId,
    string From,
    IReadOnlyList<string> To,
    string Subject,
    DateTimeOffset? Date,
    IReadOnlyList<AuthenticationFailure> AuthenticationFailures,
    IReadOnlyList<MailPart> Parts)
{
    /// <summary>The domain part of <see cref="From"/>, lower case; empty without one.</summary>
    public string FromDomain => From.LastIndexOf('@') is var at and >= 0 ? From[(at + 1)..] : string.Empty;
}

/// <summary>Bounds on what one message may make us hold in memory or unpack.</summary>
/// <param name="MaxParts">Attachments recorded per message (zip entries included); the rest are noted as one ignored part.</param>
/// <param name="MaxNesting">Forwarded messages and zips inside each other.</param>
/// <param name="MaxUnpackedBytes">Bytes all zip entries of a message may unpack to.</param>
/// <param name="MaxCompressionRatio">Unpacked size over packed size an entry may reach (zip bombs reach thousands).</param>
public sealed record MailReadingLimits(int MaxParts = 200, int MaxNesting = 5, long MaxUnpackedBytes = 100L << 20, int MaxCompressionRatio = 200)
{
    public static MailReadingLimits Default { get; } = new();
}
