using System.IO.Compression;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Cryptography;
using MimeKit.Tnef;

namespace Invisible.Ingestion.Mail;

/// <summary>
/// Reads a raw RFC 5322 message into its envelope and attachments, also those inside forwarded messages
/// (<c>message/rfc822</c>) and zip files. Pure: bytes in, a <see cref="MailReading"/> out. Any input gives a reading
/// (a message MimeKit cannot parse is one unreadable part); a part is either read whole or recorded as unreadable with
/// no bytes, so nothing downstream ever sees half a file.
/// </summary>
public static partial class MailReader
{
    private static readonly ParserOptions Parsing = CreateParserOptions();

    public static MailReading Read(Stream message, MailReadingLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        MimeMessage parsed;
        try
        {
            parsed = MimeMessage.Load(Parsing, message, cancellationToken);
        }
        catch (FormatException)
        {
            // Not even headers MimeKit can make out: still a reading, so the message is logged (and held: it has no sender).
            return new MailReading(null, string.Empty, [], string.Empty, null, [],
                [new MailPart("message.eml", "message.eml", "message/rfc822", MailPartKind.Unreadable, [], "the message could not be parsed")]);
        }

        var walk = new Walk(limits ?? MailReadingLimits.Default, cancellationToken);
        walk.Entity(parsed.Body, prefix: string.Empty, depth: 0);
        return new MailReading(
            string.IsNullOrWhiteSpace(parsed.MessageId) ? null : parsed.MessageId.Trim(),
            parsed.From.Mailboxes.FirstOrDefault()?.Address?.Trim().ToLowerInvariant() ?? string.Empty,
            parsed.To.Mailboxes.Concat(parsed.Cc.Mailboxes).Select(mailbox => mailbox.Address.Trim().ToLowerInvariant()).Distinct().ToList(),
            parsed.Subject ?? string.Empty,
            parsed.Date == DateTimeOffset.MinValue ? null : parsed.Date.ToUniversalTime(),
            AuthenticationFailures(parsed.Headers),
            walk.Parts);
    }

    /// <summary>dkim=fail and spf=fail verdicts of every <c>Authentication-Results</c> header, with the domain each was about.</summary>
    public static IReadOnlyList<AuthenticationFailure> AuthenticationFailures(HeaderList headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var failures = new List<AuthenticationFailure>();
        foreach (var header in headers.Where(header => header.Id == HeaderId.AuthenticationResults))
        {
            if (AuthenticationResults.TryParse(header.RawValue, out var results))
            {
                foreach (var result in results.Results)
                {
                    if (result.Method is "dkim" or "spf" && string.Equals(result.Result, "fail", StringComparison.OrdinalIgnoreCase))
                    {
                        var subject = result.Properties.FirstOrDefault(p =>
                            (p.PropertyType, p.Property) is ("header", "d") or ("smtp", "mailfrom") or ("header", "from") or ("header", "i"))?.Value;
                        failures.Add(new AuthenticationFailure(result.Method, DomainOf(subject)));
                    }
                }
            }
            else
            {
                // A header MimeKit cannot parse still counts: a relay said "fail", and holding is the safe reading of it.
                foreach (Match match in FailVerdict().Matches(header.Value))
                {
                    failures.Add(new AuthenticationFailure(match.Groups[1].Value.ToLowerInvariant(), string.Empty));
                }
            }
        }

        return failures;
    }

    private static string DomainOf(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return string.Empty;
        }

        var at = value.LastIndexOf('@');
        return (at >= 0 ? value[(at + 1)..] : value).Trim().TrimEnd('>').ToLowerInvariant();
    }

    private static ParserOptions CreateParserOptions()
    {
        var options = ParserOptions.Default.Clone();
        options.MaxMimeDepth = 32;
        return options;
    }

    [GeneratedRegex(@"\b(dkim|spf)\s*=\s*fail\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FailVerdict();

    private sealed class Walk(MailReadingLimits limits, CancellationToken cancellationToken)
    {
        private int _forwarded;
        private int _unnamed;
        private long _unpacked;
        private bool _overflowNoted;

        public List<MailPart> Parts { get; } = [];

        public void Entity(MimeEntity? entity, string prefix, int depth)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (entity)
            {
                case null:
                    return;
                case MessagePart { Message: var inner }:
                    _forwarded++;
                    var forwardedPrefix = $"{prefix}forwarded-{_forwarded}/";
                    if (depth >= limits.MaxNesting)
                    {
                        Add(new MailPart(forwardedPrefix.TrimEnd('/'), "forwarded message", "message/rfc822", MailPartKind.Unreadable, [],
                            $"forwarded more than {limits.MaxNesting} levels deep: not read"));
                        return;
                    }

                    Entity(inner?.Body, forwardedPrefix, depth + 1);
                    return;
                case Multipart multipart:
                    foreach (var child in multipart)
                    {
                        Entity(child, prefix, depth);
                    }

                    return;
                case TnefPart tnef:
                    Add(Noted(prefix, tnef, "TNEF (winmail.dat) from Outlook is not read: ask the sender to turn off rich text, or to send the invoice as a plain attachment"));
                    return;
                case MimePart part:
                    Part(part, prefix, depth);
                    return;
            }
        }

        private void Part(MimePart part, string prefix, int depth)
        {
            var fileName = SafeFileName(part.FileName);
            var contentType = part.ContentType.MimeType.ToLowerInvariant();
            // Body text is the message, not an attachment: only named or attached parts are files.
            if (fileName is null && !part.IsAttachment && part is TextPart)
            {
                return;
            }

            fileName ??= $"attachment-{++_unnamed}{ExtensionFor(contentType)}";
            var kind = Classify(fileName, contentType);
            if (kind is Classification.Signature or Classification.Image or Classification.Other)
            {
                Add(Noted(prefix, part, fileName, NoteFor(kind)));
                return;
            }

            if (kind == Classification.Tnef)
            {
                Add(Noted(prefix, part, fileName, "TNEF (winmail.dat) from Outlook is not read: ask the sender to turn off rich text, or to send the invoice as a plain attachment"));
                return;
            }

            byte[] content;
            try
            {
                using var buffer = new MemoryStream();
                part.Content?.DecodeTo(buffer, cancellationToken);
                content = buffer.ToArray();
            }
            catch (Exception exception) when (exception is FormatException or InvalidDataException or IOException)
            {
                Add(new MailPart(prefix + fileName, fileName, contentType, MailPartKind.Unreadable, [], "the attachment could not be decoded"));
                return;
            }

            if (kind == Classification.Zip)
            {
                Zip(prefix + fileName, fileName, content, depth);
                return;
            }

            Add(new MailPart(prefix + fileName, fileName, contentType, kind == Classification.Pdf ? MailPartKind.Pdf : MailPartKind.InvoiceFile, content, null));
        }

        /// <summary>Unpacks a zip whole or not at all: a broken or oversized archive is one unreadable part.</summary>
        private void Zip(string path, string fileName, byte[] content, int depth)
        {
            if (depth >= limits.MaxNesting)
            {
                Add(new MailPart(path, fileName, "application/zip", MailPartKind.Unreadable, [], $"zip nested more than {limits.MaxNesting} levels deep: not read"));
                return;
            }

            var entries = new List<(string Name, byte[] Content)>();
            try
            {
                using var archive = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
                foreach (var entry in archive.Entries)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (entry.FullName.EndsWith('/'))
                    {
                        continue;
                    }

                    if (entries.Count >= limits.MaxParts)
                    {
                        throw new InvalidDataException($"more than {limits.MaxParts} files");
                    }

                    var allowed = Math.Min(limits.MaxUnpackedBytes - _unpacked, Math.Max(entry.CompressedLength, 1) * (long)limits.MaxCompressionRatio);
                    if (entry.Length > allowed)
                    {
                        throw new InvalidDataException($"'{entry.FullName}' unpacks to {entry.Length} bytes, over the limit");
                    }

                    // The declared length is the sender's claim: the copy stops at the limit whatever the entry says.
                    using var unpacked = new MemoryStream();
                    using (var stream = entry.Open())
                    {
                        CopyAtMost(stream, unpacked, allowed);
                    }

                    _unpacked += unpacked.Length;
                    entries.Add((entry.FullName, unpacked.ToArray()));
                }
            }
            catch (InvalidDataException exception)
            {
                Add(new MailPart(path, fileName, "application/zip", MailPartKind.Unreadable, [], $"the zip file could not be read whole: {exception.Message}"));
                return;
            }

            foreach (var (name, entryContent) in entries)
            {
                var entryName = SafeFileName(Path.GetFileName(name)) ?? $"attachment-{++_unnamed}";
                var entryPath = $"{path}/{string.Join('/', name.Split('/', '\\').Select(segment => SafeFileName(segment) ?? "_"))}";
                var contentType = MimeTypes.GetMimeType(entryName).ToLowerInvariant();
                switch (Classify(entryName, contentType))
                {
                    case Classification.Zip:
                        Zip(entryPath, entryName, entryContent, depth + 1);
                        break;
                    case Classification.Pdf:
                        Add(new MailPart(entryPath, entryName, "application/pdf", MailPartKind.Pdf, entryContent, null));
                        break;
                    case Classification.InvoiceFile:
                        Add(new MailPart(entryPath, entryName, contentType, MailPartKind.InvoiceFile, entryContent, null));
                        break;
                    case var other:
                        Add(new MailPart(entryPath, entryName, contentType, MailPartKind.Ignored, [], NoteFor(other)));
                        break;
                }
            }
        }

        private static void CopyAtMost(Stream source, Stream destination, long limit)
        {
            var buffer = new byte[81920];
            long total = 0;
            int read;
            while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    throw new InvalidDataException("an entry unpacks to more than it may");
                }

                destination.Write(buffer, 0, read);
            }
        }

        private void Add(MailPart part)
        {
            if (Parts.Count < limits.MaxParts)
            {
                Parts.Add(part);
            }
            else if (!_overflowNoted)
            {
                _overflowNoted = true;
                Parts.Add(new MailPart("…", "…", "application/octet-stream", MailPartKind.Ignored, [], $"more than {limits.MaxParts} attachments: the rest were not read"));
            }
        }

        private MailPart Noted(string prefix, MimePart part, string note) =>
            Noted(prefix, part, SafeFileName(part.FileName) ?? $"attachment-{++_unnamed}", note);

        private static MailPart Noted(string prefix, MimePart part, string fileName, string note) =>
            new(prefix + fileName, fileName, part.ContentType.MimeType.ToLowerInvariant(), MailPartKind.Ignored, [], note);
    }

    private enum Classification
    {
        InvoiceFile,
        Pdf,
        Zip,
        Tnef,
        Signature,
        Image,
        Other,
    }

    private static Classification Classify(string fileName, string contentType)
    {
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        if (extension == ".dat" && fileName.Equals("winmail.dat", StringComparison.OrdinalIgnoreCase) || contentType is "application/ms-tnef" or "application/vnd.ms-tnef")
        {
            return Classification.Tnef;
        }

        if (contentType.EndsWith("-signature", StringComparison.Ordinal) || extension is ".p7s" or ".asc" or ".sig")
        {
            return Classification.Signature;
        }

        return extension switch
        {
            ".csv" or ".xml" => Classification.InvoiceFile,
            ".pdf" => Classification.Pdf,
            ".zip" => Classification.Zip,
            _ => contentType switch
            {
                "text/csv" or "application/xml" or "text/xml" => Classification.InvoiceFile,
                "application/pdf" => Classification.Pdf,
                "application/zip" or "application/x-zip-compressed" => Classification.Zip,
                _ when contentType.StartsWith("image/", StringComparison.Ordinal) => Classification.Image,
                _ => Classification.Other,
            },
        };
    }

    private static string NoteFor(Classification kind) => kind switch
    {
        Classification.Signature => "a signature, not an invoice file",
        Classification.Image => "an image (logo or signature), not an invoice file",
        Classification.Tnef => "TNEF (winmail.dat) is not read",
        _ => "not an invoice file (CSV, XML, PDF or zip of them)",
    };

    private static string ExtensionFor(string contentType) => contentType switch
    {
        "text/csv" => ".csv",
        "application/xml" or "text/xml" => ".xml",
        "application/pdf" => ".pdf",
        "application/zip" => ".zip",
        _ => string.Empty,
    };

    /// <summary>The last path segment without control characters, trimmed to 200 characters; null when nothing is left.</summary>
    private static string? SafeFileName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var last = name.Split('/', '\\')[^1];
        var clean = new string(last.Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (clean is "" or "." or "..")
        {
            return null;
        }

        return clean.Length > 200 ? clean[..200] : clean;
    }
}
