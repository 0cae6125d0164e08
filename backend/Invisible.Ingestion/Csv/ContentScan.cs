using System.Security.Cryptography;
using System.Text;

namespace Invisible.Ingestion.Csv;

/// <summary>What one pass over the raw bytes tells: their SHA-256 (the file's identity for idempotent re-imports) and text encoding.</summary>
internal sealed record ContentScan(string Sha256, Encoding Encoding, long Length);

/// <summary>
/// Detects the text encoding: a byte order mark (UTF-8, UTF-16 LE/BE) wins; otherwise the bytes are UTF-8 if they all
/// decode as UTF-8, else Windows-1252 (every byte sequence is valid Windows-1252, so that is the last resort).
/// </summary>
internal static class TextEncodingDetector
{
    static TextEncodingDetector() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static Encoding Windows1252 => Encoding.GetEncoding(1252);

    /// <summary>Reads <paramref name="content"/> once from the start, in constant memory.</summary>
    /// <param name="declared">An encoding the caller knows; a byte order mark still overrides it.</param>
    public static async Task<ContentScan> ScanAsync(Stream content, Encoding? declared, CancellationToken cancellationToken)
    {
        content.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
        var chars = new char[Utf8ProbeBufferChars];
        var buffer = new byte[64 * 1024];
        Encoding? fromBom = null;
        var validUtf8 = true;
        long length = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var chunk = buffer.AsSpan(0, read);
            hash.AppendData(chunk);
            if (length == 0)
            {
                fromBom = FromByteOrderMark(chunk);
            }

            length += read;
            if (fromBom is null && declared is null && validUtf8)
            {
                validUtf8 = IsUtf8Continuation(strictUtf8, chunk, chars, flush: false);
            }
        }

        if (fromBom is null && declared is null && validUtf8)
        {
            validUtf8 = IsUtf8Continuation(strictUtf8, [], chars, flush: true);
        }

        content.Position = 0;
        var encoding = fromBom ?? declared ?? (validUtf8 ? Encoding.UTF8 : Windows1252);
        return new ContentScan(Convert.ToHexStringLower(hash.GetHashAndReset()), encoding, length);
    }

    /// <summary>Converts the bytes, with the decoder carrying a sequence split across chunks; false at the first invalid byte.</summary>
    private static bool IsUtf8Continuation(Decoder decoder, ReadOnlySpan<byte> bytes, char[] chars, bool flush)
    {
        try
        {
            while (true)
            {
                decoder.Convert(bytes, chars, flush, out var bytesUsed, out _, out var completed);
                bytes = bytes[bytesUsed..];
                if (completed)
                {
                    return true;
                }
            }
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private const int Utf8ProbeBufferChars = 64 * 1024;

    private static Encoding? FromByteOrderMark(ReadOnlySpan<byte> start) => start switch
    {
        [0xEF, 0xBB, 0xBF, ..] => Encoding.UTF8,
        [0xFF, 0xFE, ..] => Encoding.Unicode,
        [0xFE, 0xFF, ..] => Encoding.BigEndianUnicode,
        _ => null,
    };
}
