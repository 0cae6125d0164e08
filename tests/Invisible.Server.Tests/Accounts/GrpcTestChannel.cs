using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Invisible.Rpc;

namespace Invisible.Server.Tests.Accounts;

/// <summary>The outcome of one real gRPC call: status, the <c>ErrorInfo.reason</c> clients branch on, and the response message.</summary>
public sealed record RpcReply(StatusCode Status, string Message, string? Reason, IMessage? Response)
{
    public T As<T>()
        where T : IMessage => Status == StatusCode.OK ? (T)Response! : throw new InvalidOperationException($"The call failed: {Status} {Reason} {Message}");

    public override string ToString() => $"{Status} {Reason} '{Message}'";
}

/// <summary>
/// A gRPC client over HTTP/2 cleartext (h2c) with real framing and trailers, for any method of a proto descriptor: what
/// grpc-dotnet would send, without its packages (not restorable here).
/// </summary>
public sealed class GrpcTestChannel(Uri grpcEndpoint) : IDisposable
{
    private readonly HttpClient _http = new() { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    /// <param name="deadline">Sent as <c>grpc-timeout</c>, so that endless server streams end too.</param>
    public async Task<RpcReply> CallAsync(MethodDescriptor method, IMessage request, string? accessToken = null, string? apiKey = null, TimeSpan? deadline = null)
    {
        var payload = request.ToByteArray();
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(grpcEndpoint, $"/{method.Service.FullName}/{method.Name}"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        message.Headers.TryAddWithoutValidation("te", "trailers");
        message.Headers.TryAddWithoutValidation("grpc-timeout", $"{(int)(deadline ?? TimeSpan.FromSeconds(30)).TotalMilliseconds}m");
        if (accessToken is not null)
        {
            message.Headers.TryAddWithoutValidation("authorization", $"Bearer {accessToken}");
        }

        if (apiKey is not null)
        {
            message.Headers.TryAddWithoutValidation("x-api-key", apiKey);
        }

        using var response = await _http.SendAsync(message);
        var body = await response.Content.ReadAsByteArrayAsync();
        var metadata = response.TrailingHeaders.Concat(response.Headers).ToDictionary(pair => pair.Key, pair => string.Join(",", pair.Value), StringComparer.OrdinalIgnoreCase);
        var status = (StatusCode)int.Parse(metadata["grpc-status"], System.Globalization.CultureInfo.InvariantCulture);
        var text = metadata.TryGetValue("grpc-message", out var encoded) ? Uri.UnescapeDataString(encoded) : string.Empty;
        string? reason = null;
        if (metadata.TryGetValue("grpc-status-details-bin", out var details))
        {
            var statusDetails = Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(details.PadRight(details.Length + ((4 - (details.Length % 4)) % 4), '=')));
            reason = statusDetails.Details.Where(any => any.Is(ErrorInfo.Descriptor)).Select(any => any.Unpack<ErrorInfo>().Reason).FirstOrDefault();
        }

        IMessage? reply = null;
        if (status == StatusCode.OK)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1));
            reply = method.OutputType.Parser.ParseFrom(body, 5, length);
        }

        return new RpcReply(status, text, reason, reply);
    }

    public void Dispose() => _http.Dispose();
}
