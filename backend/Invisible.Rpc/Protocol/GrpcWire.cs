using System.Globalization;
using System.Text;

namespace Invisible.Rpc.Protocol;

/// <summary>Header names and value encodings of the gRPC over HTTP/2 spec (doc/PROTOCOL-HTTP2.md) and PROTOCOL-WEB.</summary>
internal static class GrpcWire
{
    public const string StatusHeader = "grpc-status";
    public const string MessageHeader = "grpc-message";
    public const string StatusDetailsHeader = "grpc-status-details-bin";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string RequestIdHeader = "x-request-id";
    public const string Gzip = "gzip";
    public const string Identity = "identity";
    public const string SupportedEncodings = "gzip, identity";

    /// <summary>The protocol of a request by its content type, or null when it is not a gRPC content type we speak.</summary>
    public static RpcProtocol? ProtocolOf(string contentType) => contentType.ToLowerInvariant() switch
    {
        "application/grpc" or "application/grpc+proto" => RpcProtocol.Grpc,
        "application/grpc-web" or "application/grpc-web+proto" => RpcProtocol.GrpcWeb,
        "application/grpc-web-text" or "application/grpc-web-text+proto" => RpcProtocol.GrpcWebText,
        _ => null,
    };

    public static bool LooksLikeGrpc(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Parses <c>grpc-timeout</c>: at most 8 digits and a unit (H, M, S, m, u, n).
    /// Returns false for anything else, which the caller reports rather than ignores.
    /// </summary>
    public static bool TryParseTimeout(string value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length is < 2 or > 9 || !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        long? ticks = value[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * TimeSpan.TicksPerMicrosecond,
            'n' => amount / 100,
            _ => null,
        };
        if (ticks is null)
        {
            return false;
        }

        timeout = TimeSpan.FromTicks(ticks.Value);
        return true;
    }

    /// <summary>Percent-encodes a status message as the spec requires: UTF-8, every byte outside 0x20–0x7E and '%' as %XX.</summary>
    public static string PercentEncode(string message)
    {
        if (message.All(c => c is >= ' ' and <= '~' and not '%'))
        {
            return message;
        }

        var builder = new StringBuilder(message.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>Binary metadata values are sent unpadded; both forms are accepted on receipt.</summary>
    public static string ToBase64Unpadded(ReadOnlySpan<byte> value) => Convert.ToBase64String(value).TrimEnd('=');

    public static bool TryFromBase64(string value, out byte[] bytes)
    {
        var trimmed = value.Trim().TrimEnd('=');
        var padded = trimmed.PadRight(trimmed.Length + ((4 - (trimmed.Length % 4)) % 4), '=');
        bytes = new byte[padded.Length / 4 * 3];
        if (Convert.TryFromBase64String(padded, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }

        return false;
    }

    public static bool AcceptsGzip(string? acceptEncoding)
    {
        foreach (var range in acceptEncoding.AsSpan().Split(','))
        {
            if (acceptEncoding.AsSpan()[range].Trim().Equals(Gzip, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The <c>grpc-status</c> value of each code, so writing a status allocates no string.</summary>
    public static string StatusText(StatusCode status) =>
        (uint)status < (uint)StatusTexts.Length ? StatusTexts[(int)status] : ((int)status).ToString(CultureInfo.InvariantCulture);

    private static readonly string[] StatusTexts = [.. Enumerable.Range(0, 17).Select(code => code.ToString(CultureInfo.InvariantCulture))];
}
