using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Invisible.Rpc.Protocol;

namespace Invisible.Rpc.Tests.Support;

/// <summary>
/// Speaks gRPC and gRPC-Web byte for byte over a real HttpClient, so tests can send malformed requests and see
/// exactly what the server put on the wire.
/// </summary>
public static class GrpcWireClient
{
    public const string GrpcContentType = "application/grpc";
    public const string GrpcWebContentType = "application/grpc-web+proto";
    public const string GrpcWebTextContentType = "application/grpc-web-text";

    public static byte[] Frame(IMessage message, bool gzip = false) =>
        gzip ? Frame(1, Gzip(message.ToByteArray())) : Frame(0, message.ToByteArray());

    public static byte[] Frame(byte flag, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    public static byte[] Gzip(byte[] payload)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(payload);
        }

        return output.ToArray();
    }

    /// <summary>A POST in the HTTP version of <paramref name="client"/> (explicit requests do not inherit it).</summary>
    public static HttpRequestMessage Request(HttpClient client, Uri uri, string contentType, byte[] body, params (string Key, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(body),
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        foreach (var (key, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }

        return request;
    }

    public static async Task<GrpcResult> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        using var response = await client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var contentType = response.Content.Headers.ContentType?.MediaType ?? string.Empty;
        var frames = ParseFrames(contentType.StartsWith("application/grpc-web-text", StringComparison.Ordinal) ? Invisible.Rpc.Protocol.GrpcWebText.Decode(new ReadOnlySequence<byte>(body)) : body);
        var trailers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, values) in response.TrailingHeaders)
        {
            trailers[key] = string.Join(",", values);
        }

        foreach (var frame in frames.Where(f => (f.Flag & 0x80) != 0))
        {
            foreach (var line in Encoding.ASCII.GetString(frame.Payload).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                trailers[line[..colon]] = line[(colon + 1)..];
            }
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, values) in response.Headers.Concat(response.Content.Headers))
        {
            headers[key] = string.Join(",", values);
        }

        var trailersOnly = trailers.Count == 0 && headers.ContainsKey("grpc-status");
        var statusSource = trailersOnly ? headers : trailers;
        return new GrpcResult(
            response.StatusCode,
            response.Version,
            headers,
            trailers,
            frames.Where(f => (f.Flag & 0x80) == 0).ToList(),
            body,
            statusSource.TryGetValue("grpc-status", out var status) ? int.Parse(status) : null,
            statusSource.TryGetValue("grpc-message", out var message) ? Uri.UnescapeDataString(message) : null,
            trailersOnly);
    }

    public static List<WireFrame> ParseFrames(byte[] body)
    {
        var frames = new List<WireFrame>();
        var offset = 0;
        while (offset + 5 <= body.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1));
            if (length < 0 || offset + 5 + length > body.Length)
            {
                throw new InvalidDataException($"The response body is not gRPC frames: {Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)])}");
            }

            frames.Add(new WireFrame(body[offset], body.AsSpan(offset + 5, length).ToArray()));
            offset += 5 + length;
        }

        return frames;
    }
}

public sealed record WireFrame(byte Flag, byte[] Payload)
{
    public T As<T>(MessageParser<T> parser)
        where T : IMessage<T> =>
        parser.ParseFrom((Flag & 1) == 1 ? Gunzip(Payload) : Payload);

    private static byte[] Gunzip(byte[] payload)
    {
        using var input = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}

public sealed record GrpcResult(
    HttpStatusCode HttpStatus,
    Version HttpVersion,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, string> Trailers,
    IReadOnlyList<WireFrame> Messages,
    byte[] RawBody,
    int? Status,
    string? Message,
    bool TrailersOnly)
{
    public StatusCode StatusCode => Status is { } status ? (StatusCode)status : throw new InvalidOperationException($"The response carries no grpc-status (HTTP {(int)HttpStatus}).");
}
