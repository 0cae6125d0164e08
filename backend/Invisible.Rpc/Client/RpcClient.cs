using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Invisible.Rpc.Protocol;

namespace Invisible.Rpc.Client;

/// <summary>
/// A small gRPC client over <see cref="HttpClient"/> (Grpc.Net.Client is not available here): unary and server-streaming
/// calls by proto method descriptor, as gRPC-Web or native gRPC, gzip optional, deadlines sent as <c>grpc-timeout</c>. A
/// status other than OK throws <see cref="RpcException"/> with the server's <see cref="ErrorInfo"/> and
/// <see cref="BadRequest"/> decoded from <c>grpc-status-details-bin</c>; an unreachable server is UNAVAILABLE.
/// </summary>
public sealed class RpcClient : IDisposable
{
    private const string GrpcContentType = "application/grpc";
    private const string GrpcWebContentType = "application/grpc-web+proto";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly RpcClientOptions _options;

    public RpcClient(RpcClientOptions options)
        : this(new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true }) { Timeout = Timeout.InfiniteTimeSpan }, options, ownsHttp: true)
    {
    }

    /// <param name="http">Used as is (its handler decides proxies and certificates); its <see cref="HttpClient.Timeout"/> should be infinite, deadlines are per call.</param>
    public RpcClient(HttpClient http, RpcClientOptions options)
        : this(http, options, ownsHttp: false)
    {
    }

    private RpcClient(HttpClient http, RpcClientOptions options, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"The server address must be an http:// or https:// URL, not '{options.Address}'.", nameof(options));
        }

        (_http, _options, _ownsHttp) = (http, options, ownsHttp);
    }

    public RpcClientOptions Options => _options;

    public async Task<TResponse> UnaryAsync<TResponse>(
        MethodDescriptor method, IMessage request, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
        where TResponse : IMessage<TResponse>
    {
        TResponse? response = default;
        var count = 0;
        await foreach (var message in ServerStreamingAsync<TResponse>(method, request, deadline, cancellationToken))
        {
            response = message;
            count++;
        }

        return count == 1
            ? response!
            : throw new RpcException(StatusCode.Internal, $"{method.FullName} answered with {count} messages where a unary call expects one.");
    }

    /// <summary>
    /// The response messages as they arrive. The call's status is checked when the stream ends: messages sent before an error
    /// are still yielded, then the enumeration throws.
    /// </summary>
    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TResponse>(
        MethodDescriptor method, IMessage request, TimeSpan? deadline = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TResponse : IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        if (method.OutputType.ClrType != typeof(TResponse) || method.IsClientStreaming)
        {
            throw new ArgumentException($"{method.FullName} returns {method.OutputType.ClrType.Name}{(method.IsClientStreaming ? " from a client stream" : "")}, not {typeof(TResponse).Name}.", nameof(method));
        }

        var effectiveDeadline = deadline ?? _options.DefaultDeadline;
        using var deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (effectiveDeadline is { } limit)
        {
            deadlineSource.CancelAfter(limit);
        }

        var call = new ResponseReader(this, method, () => !cancellationToken.IsCancellationRequested && deadlineSource.IsCancellationRequested, deadlineSource.Token);
        try
        {
            await call.StartAsync(CreateRequest(method, request, effectiveDeadline));
            while (await call.ReadMessageAsync() is { } payload)
            {
                yield return (TResponse)method.OutputType.Parser.ParseFrom(payload);
            }

            call.ThrowIfNotOk();
        }
        finally
        {
            call.Dispose();
        }
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private HttpRequestMessage CreateRequest(MethodDescriptor method, IMessage request, TimeSpan? deadline)
    {
        var payload = request.ToByteArray();
        var compressed = _options.CompressRequests;
        if (compressed)
        {
            payload = MessageFrames.Compress(payload);
        }

        var frame = new byte[MessageFrames.HeaderLength + payload.Length];
        MessageFrames.WriteHeader(frame, compressed ? MessageFrames.CompressedFlag : (byte)0, payload.Length);
        payload.CopyTo(frame, MessageFrames.HeaderLength);

        var native = _options.Protocol == RpcClientProtocol.Grpc;
        var https = _options.Address.Scheme == Uri.UriSchemeHttps;
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(WithTrailingSlash(_options.Address), $"{method.Service.FullName}/{method.Name}"))
        {
            Content = new ByteArrayContent(frame),

            // Native gRPC needs HTTP/2 (h2c by prior knowledge in cleartext); gRPC-Web takes HTTP/2 where TLS offers it, else HTTP/1.1.
            Version = native || https ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = native ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(native ? GrpcContentType : GrpcWebContentType);
        var headers = message.Headers;
        if (native)
        {
            headers.TryAddWithoutValidation("te", "trailers");
        }
        else
        {
            headers.TryAddWithoutValidation("x-grpc-web", "1");
        }

        headers.TryAddWithoutValidation("user-agent", _options.UserAgent);
        headers.TryAddWithoutValidation(GrpcWire.AcceptEncodingHeader, GrpcWire.SupportedEncodings);
        if (compressed)
        {
            headers.TryAddWithoutValidation(GrpcWire.EncodingHeader, GrpcWire.Gzip);
        }

        if (deadline is { } timeout)
        {
            headers.TryAddWithoutValidation(GrpcWire.TimeoutHeader, EncodeTimeout(timeout));
        }

        foreach (var (name, value) in _options.Headers)
        {
            headers.TryAddWithoutValidation(name, value);
        }

        return message;
    }

    private static Uri WithTrailingSlash(Uri address) =>
        address.AbsolutePath.EndsWith('/') ? address : new Uri(address.GetLeftPart(UriPartial.Path) + "/");

    /// <summary>At most 8 digits (the spec's limit), in the finest unit that fits.</summary>
    private static string EncodeTimeout(TimeSpan timeout)
    {
        var milliseconds = Math.Max(1, (long)Math.Ceiling(timeout.TotalMilliseconds));
        return milliseconds < 100_000_000
            ? milliseconds.ToString(CultureInfo.InvariantCulture) + "m"
            : Math.Min(99_999_999, (long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "S";
    }

    /// <summary>gRPC's mapping of HTTP statuses for responses that carry no grpc-status (doc/http-grpc-status-mapping.md).</summary>
    private static StatusCode FromHttpStatus(HttpStatusCode status) => status switch
    {
        HttpStatusCode.BadRequest => StatusCode.Internal,
        HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
        HttpStatusCode.NotFound => StatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>One call's response: headers, then frames, then the status from trailers (or from headers when trailers-only).</summary>
    private sealed class ResponseReader(RpcClient client, MethodDescriptor method, Func<bool> deadlineExceeded, CancellationToken cancellationToken) : IDisposable
    {
        private readonly byte[] _header = new byte[MessageFrames.HeaderLength];
        private HttpResponseMessage? _response;
        private Stream? _body;
        private Dictionary<string, string>? _status;
        private bool _compressed;

        public async Task StartAsync(HttpRequestMessage request)
        {
            using (request)
            {
                _response = await Guard(() => client._http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken));
            }

            var headers = ToDictionary(_response.Headers.Concat(_response.Content.Headers));
            if (headers.ContainsKey(GrpcWire.StatusHeader))
            {
                // Trailers-only: the status came with the headers and there is no body worth reading.
                _status = headers;
                return;
            }

            if (_response.StatusCode != HttpStatusCode.OK)
            {
                throw new RpcException(FromHttpStatus(_response.StatusCode), $"{method.FullName}: the server answered HTTP {(int)_response.StatusCode} without a gRPC status.");
            }

            var contentType = _response.Content.Headers.ContentType?.MediaType ?? string.Empty;
            if (!contentType.StartsWith(GrpcContentType, StringComparison.OrdinalIgnoreCase))
            {
                throw new RpcException(StatusCode.Unknown, $"{method.FullName}: the server answered '{contentType}', not gRPC; is the address that of an Invisible server?");
            }

            _compressed = headers.TryGetValue(GrpcWire.EncodingHeader, out var encoding) && encoding.Equals(GrpcWire.Gzip, StringComparison.OrdinalIgnoreCase);
            _body = await Guard(() => _response.Content.ReadAsStreamAsync(cancellationToken));
        }

        /// <summary>The next message's payload, or null once the messages have ended (the status is then known).</summary>
        public async Task<byte[]?> ReadMessageAsync()
        {
            while (_status is null)
            {
                var read = await Guard(() => _body!.ReadAtLeastAsync(_header, _header.Length, throwOnEndOfStream: false, cancellationToken).AsTask());
                if (read == 0)
                {
                    // End of body: native gRPC's status is in the HTTP/2 trailers.
                    _status = ToDictionary(_response!.TrailingHeaders);
                    return null;
                }

                if (read < _header.Length)
                {
                    throw new RpcException(StatusCode.Internal, $"{method.FullName}: the response ended inside a message frame header.");
                }

                var length = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
                if (length > (uint)client._options.MaxReceiveMessageSize)
                {
                    throw new RpcException(StatusCode.ResourceExhausted, $"{method.FullName}: a response message of {length} bytes exceeds the limit of {client._options.MaxReceiveMessageSize}.");
                }

                var payload = new byte[length];
                await Guard(async () =>
                {
                    await _body!.ReadExactlyAsync(payload, cancellationToken);
                    return 0;
                });
                var flag = _header[0];
                if ((flag & MessageFrames.TrailersFlag) != 0)
                {
                    // gRPC-Web: the trailers are the last frame of the body, as HTTP/1-style header lines.
                    _status = ParseTrailerFrame(payload);
                    return null;
                }

                return (flag & MessageFrames.CompressedFlag) == 0 ? payload : Decompress(payload);
            }

            return null;
        }

        public void ThrowIfNotOk()
        {
            var status = _status ?? throw new RpcException(StatusCode.Internal, $"{method.FullName}: the response carried no status.");
            if (!status.TryGetValue(GrpcWire.StatusHeader, out var text) || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                throw new RpcException(StatusCode.Internal, $"{method.FullName}: the response ended without a grpc-status.");
            }

            if (code == (int)StatusCode.OK)
            {
                return;
            }

            var message = status.TryGetValue(GrpcWire.MessageHeader, out var encoded) ? Uri.UnescapeDataString(encoded) : string.Empty;
            ErrorInfo? errorInfo = null;
            BadRequest? badRequest = null;
            if (status.TryGetValue(GrpcWire.StatusDetailsHeader, out var details) && GrpcWire.TryFromBase64(details, out var bytes))
            {
                try
                {
                    var decoded = Google.Rpc.Status.Parser.ParseFrom(bytes);
                    errorInfo = decoded.Details.Where(any => any.Is(ErrorInfo.Descriptor)).Select(any => any.Unpack<ErrorInfo>()).FirstOrDefault();
                    badRequest = decoded.Details.Where(any => any.Is(BadRequest.Descriptor)).Select(any => any.Unpack<BadRequest>()).FirstOrDefault();
                }
                catch (InvalidProtocolBufferException)
                {
                    // Details are an optional extra; the status code and message still stand.
                }
            }

            throw new RpcException(Enum.IsDefined((StatusCode)code) ? (StatusCode)code : StatusCode.Unknown, message) { ErrorInfo = errorInfo, BadRequest = badRequest };
        }

        public void Dispose()
        {
            _body?.Dispose();
            _response?.Dispose();
        }

        private byte[] Decompress(byte[] payload)
        {
            if (!_compressed)
            {
                throw new RpcException(StatusCode.Internal, $"{method.FullName}: a message is flagged compressed but the response names no grpc-encoding.");
            }

            try
            {
                using var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
                using var output = new MemoryStream();
                var buffer = new byte[16 * 1024];
                int read;
                while ((read = gzip.Read(buffer)) > 0)
                {
                    if (output.Length + read > client._options.MaxReceiveMessageSize)
                    {
                        throw new RpcException(StatusCode.ResourceExhausted, $"{method.FullName}: a decompressed response message exceeds the limit of {client._options.MaxReceiveMessageSize} bytes.");
                    }

                    output.Write(buffer, 0, read);
                }

                return output.ToArray();
            }
            catch (InvalidDataException exception)
            {
                throw new RpcException(StatusCode.Internal, $"{method.FullName}: a compressed response message is not valid gzip ({exception.Message}).");
            }
        }

        /// <summary>Maps what can go wrong on the way (deadline, connection) to statuses; a caller's own cancellation stays an OperationCanceledException.</summary>
        private async Task<T> Guard<T>(Func<Task<T>> operation)
        {
            try
            {
                return await operation();
            }
            catch (OperationCanceledException) when (deadlineExceeded())
            {
                throw new RpcException(StatusCode.DeadlineExceeded, $"{method.FullName}: the deadline passed before the server answered.");
            }
            catch (HttpRequestException exception)
            {
                throw new RpcException(StatusCode.Unavailable, $"Could not reach {client._options.Address}: {exception.Message}");
            }
            catch (IOException exception)
            {
                throw new RpcException(StatusCode.Unavailable, $"The connection to {client._options.Address} failed during {method.FullName}: {exception.Message}");
            }
        }

        private static Dictionary<string, string> ParseTrailerFrame(byte[] payload)
        {
            var trailers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in Encoding.ASCII.GetString(payload).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    trailers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
            }

            return trailers;
        }

        private static Dictionary<string, string> ToDictionary(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers)
        {
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in headers)
            {
                result[name] = string.Join(",", values);
            }

            return result;
        }
    }
}
