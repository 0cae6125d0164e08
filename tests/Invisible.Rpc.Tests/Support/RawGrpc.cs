using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;

namespace Invisible.Rpc.Tests.Support;

/// <summary>
/// gRPC and gRPC-Web requests and responses as bytes. Deliberately by hand: only the tests that send malformed input
/// (<see cref="FuzzTests"/>) or assert the exact bytes on the wire (gRPC-Web text, the gzip flag) use it; every other
/// test calls through Grpc.Net.Client.
/// </summary>
public static class RawGrpc
{
    /// <summary>A length-prefixed message: flag byte, 4-byte big-endian length, payload.</summary>
    public static byte[] Frame(byte flag, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame.AsSpan(5));
        return frame;
    }

    public static byte[] Frame(IMessage message) => Frame(0, message.ToByteArray());

    public static HttpRequestMessage Request(Uri uri, string contentType, byte[] body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    public static async Task<RawResponse> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        // A request message does not take the client's default version by itself.
        request.Version = client.DefaultRequestVersion;
        request.VersionPolicy = client.DefaultVersionPolicy;
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var contentType = response.Content.Headers.ContentType?.MediaType ?? string.Empty;
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
        var trailers = new Dictionary<string, string>();
        foreach (var trailer in response.TrailingHeaders)
        {
            trailers[trailer.Key.ToLowerInvariant()] = string.Join(",", trailer.Value);
        }

        var frames = new List<(byte Flag, byte[] Payload)>();
        if (contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            var bytes = contentType.StartsWith("application/grpc-web-text", StringComparison.OrdinalIgnoreCase) ? DecodeBase64Chunks(body) : body;
            frames = bytes is null ? [] : ReadFrames(bytes) ?? [];
            foreach (var (_, payload) in frames.Where(f => (f.Flag & 0x80) != 0))
            {
                foreach (var line in Encoding.ASCII.GetString(payload).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    trailers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
                }
            }
        }

        // Trailers-only responses carry the status in the headers.
        var statusText = trailers.GetValueOrDefault("grpc-status") ?? headers.GetValueOrDefault("grpc-status");
        var message = trailers.GetValueOrDefault("grpc-message") ?? headers.GetValueOrDefault("grpc-message");
        return new RawResponse(
            response.StatusCode, response.Version, contentType, headers, trailers, body,
            int.TryParse(statusText, out var status) ? status : null,
            message is null ? null : Uri.UnescapeDataString(message),
            [.. frames.Where(f => (f.Flag & 0x80) == 0)]);
    }

    /// <summary>gRPC-Web text: base64 that may be padded at the end of every chunk the server flushed.</summary>
    private static byte[]? DecodeBase64Chunks(byte[] text)
    {
        var decoded = new List<byte>();
        var ascii = Encoding.ASCII.GetString(text);
        if (ascii.Length % 4 != 0)
        {
            return null;
        }

        for (var i = 0; i < ascii.Length; i += 4)
        {
            try
            {
                decoded.AddRange(Convert.FromBase64String(ascii.Substring(i, 4)));
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return [.. decoded];
    }

    private static List<(byte Flag, byte[] Payload)>? ReadFrames(byte[] bytes)
    {
        var frames = new List<(byte, byte[])>();
        for (var at = 0; at < bytes.Length;)
        {
            if (bytes.Length - at < 5)
            {
                return null;
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 1));
            if (length < 0 || bytes.Length - at - 5 < length)
            {
                return null;
            }

            frames.Add((bytes[at], bytes[(at + 5)..(at + 5 + length)]));
            at += 5 + length;
        }

        return frames;
    }
}

public sealed record RawResponse(
    HttpStatusCode HttpStatus,
    Version HttpVersion,
    string ContentType,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, string> Trailers,
    byte[] Body,
    int? Status,
    string? Message,
    IReadOnlyList<(byte Flag, byte[] Payload)> Messages);
