using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;
using Invisible.Rpc.Protocol;
using Microsoft.AspNetCore.Http;

namespace Invisible.Rpc.Hosting;

/// <summary>
/// One call on the wire: reads the request frame, writes response frames, and ends with the status, either as
/// HTTP/2 trailers (native gRPC), as a trailers frame in the body (gRPC-Web), or in the headers when nothing was
/// sent yet (trailers-only).
/// </summary>
internal sealed class RpcHttpCall(HttpContext http, RpcProtocol protocol, RpcOptions options, RpcCors cors) : IDisposable
{
    /// <summary>A gRPC-Web trailers frame with status OK and nothing else: how most calls end.</summary>
    private static readonly byte[] OkWebTrailersFrame = WebTrailersFrame($"{GrpcWire.StatusHeader}:0\r\n");

    /// <summary>
    /// Serialises the handler's writes with the end of the call, which a deadline may bring at any moment. Only calls
    /// with a deadline have one: without, the call ends after the handler has returned, never during one of its writes.
    /// </summary>
    private SemaphoreSlim? _gate;
    private RpcCallContext? _context;
    private bool _completed;
    private bool _headersSent;
    private bool _responseGzip;

    public HttpContext Http => http;

    public string? RequestEncoding { get; init; }

    public void Attach(RpcCallContext context) => _context = context;

    /// <summary>Called before the handler runs when the call has a deadline, which may end the call during a write.</summary>
    public void GuardAgainstDeadline() => _gate ??= new SemaphoreSlim(1, 1);

    public void Dispose() => _gate?.Dispose();

    public async ValueTask<TRequest> ReadRequestAsync<TRequest>(MessageParser<TRequest> parser, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
    {
        var reader = http.Request.BodyReader;
        var maxTextLength = ((long)options.MaxReceiveMessageSize + MessageFrames.HeaderLength + 3) / 3 * 4;
        while (true)
        {
            var result = await ReadBodyAsync(reader, cancellationToken);
            var received = result.Buffer;
            var refusal = protocol == RpcProtocol.GrpcWebText
                ? received.Length > maxTextLength ? new RpcException(StatusCode.ResourceExhausted, $"The gRPC-Web text body exceeds the maximum message size of {options.MaxReceiveMessageSize} bytes.") : null
                : MessageFrames.CheckPartialRequest(received, options.MaxReceiveMessageSize);
            if (refusal is not null)
            {
                reader.AdvanceTo(received.End);
                throw refusal;
            }

            if (result.IsCompleted)
            {
                try
                {
                    var body = protocol == RpcProtocol.GrpcWebText ? new ReadOnlySequence<byte>(GrpcWebText.Decode(received)) : received;
                    var payload = MessageFrames.ReadSingleMessage(body, RequestEncoding, options.MaxReceiveMessageSize, out var compressed);
                    _context!.RequestCompressed = compressed;
                    return ParseRequest(parser, payload);
                }
                finally
                {
                    reader.AdvanceTo(received.End);
                }
            }

            reader.AdvanceTo(received.Start, received.End);
        }
    }

    /// <summary>A body that breaks off (the client reset the stream or closed the connection) is a truncated request.</summary>
    private static async ValueTask<ReadResult> ReadBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(cancellationToken);
        }
        catch (IOException exception)
        {
            throw new RpcException(StatusCode.Internal, $"The request body ended unexpectedly: {exception.Message}");
        }
    }

    public ValueTask WriteMessageAsync(IMessage message, bool flush, CancellationToken cancellationToken)
    {
        if (_gate is null)
        {
            ThrowIfCompleted();
            return WriteMessageCoreAsync(message, flush, cancellationToken);
        }

        return WriteMessageGuardedAsync(message, flush, cancellationToken);
    }

    private async ValueTask WriteMessageGuardedAsync(IMessage message, bool flush, CancellationToken cancellationToken)
    {
        await _gate!.WaitAsync(cancellationToken);
        try
        {
            ThrowIfCompleted();
            await WriteMessageCoreAsync(message, flush, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new RpcException(StatusCode.DeadlineExceeded, "The call has already ended; the message was not sent.");
        }
    }

    /// <summary>Ends the call with its status, once; false when it had already ended.</summary>
    public ValueTask<bool> CompleteAsync(StatusCode status, string message, Google.Rpc.Status? details)
    {
        if (_gate is null)
        {
            return ValueTask.FromResult(TryComplete(status, message, details));
        }

        return CompleteGuardedAsync(status, message, details);
    }

    private async ValueTask<bool> CompleteGuardedAsync(StatusCode status, string message, Google.Rpc.Status? details)
    {
        await _gate!.WaitAsync(CancellationToken.None);
        try
        {
            return TryComplete(status, message, details);
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool TryComplete(StatusCode status, string message, Google.Rpc.Status? details)
    {
        if (_completed)
        {
            return false;
        }

        _completed = true;
        WriteStatus(status, message, details);
        return true;
    }

    /// <summary>
    /// The deadline passed while the handler still runs: the client hears DEADLINE_EXCEEDED now rather than when
    /// the handler notices its cancelled token. Later writes of the handler are refused.
    /// </summary>
    public async Task ExpireAsync()
    {
        if (await CompleteAsync(StatusCode.DeadlineExceeded, "Deadline exceeded.", null) && !http.RequestAborted.IsCancellationRequested)
        {
            await http.Response.CompleteAsync();
        }
    }

    private ValueTask WriteMessageCoreAsync(IMessage message, bool flush, CancellationToken cancellationToken)
    {
        var context = _context ?? throw new InvalidOperationException("The call has no context yet.");
        var size = message.CalculateSize();
        if (size > options.MaxSendMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Response message of {size} bytes exceeds the maximum of {options.MaxSendMessageSize} bytes.");
        }

        if (!_headersSent)
        {
            _responseGzip = context.CompressResponses && GrpcWire.AcceptsGzip(http.Request.Headers[GrpcWire.AcceptEncodingHeader]);
            SendHeaders(context);
        }

        var writer = http.Response.BodyWriter;
        var compress = _responseGzip && context.CompressResponses;
        if (protocol != RpcProtocol.GrpcWebText && !compress)
        {
            // The common case serialises straight into the response buffer, without a copy.
            var span = writer.GetSpan(MessageFrames.HeaderLength + size);
            MessageFrames.WriteHeader(span, 0, size);
            message.WriteTo(span.Slice(MessageFrames.HeaderLength, size));
            writer.Advance(MessageFrames.HeaderLength + size);
        }
        else
        {
            var payload = compress ? MessageFrames.Compress(message.ToByteArray()) : message.ToByteArray();
            WriteFrame(compress ? MessageFrames.CompressedFlag : (byte)0, payload);
        }

        // A unary response is not flushed here: it leaves with its status when the call ends, in one write.
        if (!flush)
        {
            return ValueTask.CompletedTask;
        }

        var flushing = writer.FlushAsync(cancellationToken);
        return flushing.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitFlushAsync(flushing);
    }

    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flushing) => await flushing;

    /// <summary>
    /// Writes the status without flushing: the response is flushed once, when the call returns to Kestrel (or by
    /// <see cref="ExpireAsync"/>), so a unary call's message, trailers and end of stream go out together. Does nothing when
    /// the client has gone: there is no one to tell.
    /// </summary>
    private void WriteStatus(StatusCode status, string message, Google.Rpc.Status? details)
    {
        if (http.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var customTrailers = _context is null ? default : _context.ResponseTrailers.AsSpan();
        if (!_headersSent)
        {
            // Trailers-only: the status travels in the only HEADERS frame, and the response has no body.
            SendHeaders(_context, Trailers(status, message, details, customTrailers));
            return;
        }

        if (protocol == RpcProtocol.Grpc)
        {
            foreach (var (key, value) in Trailers(status, message, details, customTrailers))
            {
                http.Response.AppendTrailer(key, value);
            }

            return;
        }

        if (status == StatusCode.OK && message.Length == 0 && details is null && customTrailers.IsEmpty && protocol == RpcProtocol.GrpcWeb)
        {
            http.Response.BodyWriter.Write(OkWebTrailersFrame);
            return;
        }

        var block = new StringBuilder();
        foreach (var (key, value) in Trailers(status, message, details, customTrailers))
        {
            block.Append(key).Append(':').Append(value).Append("\r\n");
        }

        WriteFrame(MessageFrames.TrailersFlag, Encoding.ASCII.GetBytes(block.ToString()));
    }

    private static List<KeyValuePair<string, string>> Trailers(StatusCode status, string message, Google.Rpc.Status? details, ReadOnlySpan<RpcMetadataEntry> custom)
    {
        var trailers = new List<KeyValuePair<string, string>>(1 + custom.Length) { new(GrpcWire.StatusHeader, GrpcWire.StatusText(status)) };
        if (message.Length > 0)
        {
            trailers.Add(new(GrpcWire.MessageHeader, GrpcWire.PercentEncode(message)));
        }

        if (details is not null)
        {
            trailers.Add(new(GrpcWire.StatusDetailsHeader, GrpcWire.ToBase64Unpadded(details.ToByteArray())));
        }

        foreach (var entry in custom)
        {
            trailers.Add(Encode(entry));
        }

        return trailers;
    }

    private static byte[] WebTrailersFrame(string block)
    {
        var frame = new byte[MessageFrames.HeaderLength + block.Length];
        MessageFrames.WriteHeader(frame, MessageFrames.TrailersFlag, block.Length);
        Encoding.ASCII.GetBytes(block, frame.AsSpan(MessageFrames.HeaderLength));
        return frame;
    }

    private void SendHeaders(RpcCallContext? context, List<KeyValuePair<string, string>>? trailersOnly = null)
    {
        _headersSent = true;
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = protocol switch
        {
            RpcProtocol.Grpc => "application/grpc",
            RpcProtocol.GrpcWeb => "application/grpc-web+proto",
            _ => "application/grpc-web-text+proto",
        };
        response.Headers[GrpcWire.AcceptEncodingHeader] = GrpcWire.SupportedEncodings;
        if (_responseGzip)
        {
            response.Headers[GrpcWire.EncodingHeader] = GrpcWire.Gzip;
        }

        var custom = context is null ? default : context.ResponseHeaders.AsSpan();
        foreach (var entry in custom)
        {
            var (key, value) = Encode(entry);
            response.Headers.Append(key, value);
        }

        foreach (var (key, value) in trailersOnly ?? [])
        {
            response.Headers.Append(key, value);
        }

        // Browsers from allowed origins may read the custom metadata; requests without an Origin (most) skip this.
        if (cors.IsAllowed(http.Request, out var origin))
        {
            var exposed = new List<string>();
            foreach (var entry in custom)
            {
                exposed.Add(entry.Key);
            }

            exposed.AddRange((trailersOnly ?? []).Select(h => h.Key).Where(k => !k.StartsWith("grpc-", StringComparison.Ordinal)));
            RpcCors.AllowResponse(http, origin, exposed);
        }
    }

    private void WriteFrame(byte flag, ReadOnlySpan<byte> payload)
    {
        var writer = http.Response.BodyWriter;
        if (protocol == RpcProtocol.GrpcWebText)
        {
            var frame = new byte[MessageFrames.HeaderLength + payload.Length];
            MessageFrames.WriteHeader(frame, flag, payload.Length);
            payload.CopyTo(frame.AsSpan(MessageFrames.HeaderLength));
            writer.Write(GrpcWebText.Encode(frame));
            return;
        }

        var span = writer.GetSpan(MessageFrames.HeaderLength + payload.Length);
        MessageFrames.WriteHeader(span, flag, payload.Length);
        payload.CopyTo(span[MessageFrames.HeaderLength..]);
        writer.Advance(MessageFrames.HeaderLength + payload.Length);
    }

    private static TRequest ParseRequest<TRequest>(MessageParser<TRequest> parser, ReadOnlySequence<byte> payload)
        where TRequest : IMessage<TRequest>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException exception)
        {
            throw new RpcException(StatusCode.Internal, $"The request is not a valid {typeof(TRequest).Name}: {exception.Message}");
        }
    }

    private static KeyValuePair<string, string> Encode(RpcMetadataEntry entry) =>
        new(entry.Key, entry.ValueBytes is { } bytes ? GrpcWire.ToBase64Unpadded(bytes) : entry.Value!);
}
