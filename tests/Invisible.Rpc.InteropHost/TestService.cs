using Google.Protobuf;
using Grpc.Core;
using Grpc.Testing;
using Invisible.Server.Errors;

namespace Invisible.Rpc.InteropHost;

/// <summary>
/// grpc.testing.TestService as the gRPC interop spec (doc/interop-test-descriptions.md) describes the server: payloads
/// of the requested sizes, echoed metadata, requested statuses and compression. UnimplementedMethod is left to the
/// generated base, which answers UNIMPLEMENTED as the spec requires.
/// </summary>
public sealed class TestService : Grpc.Testing.TestService.TestServiceBase
{
    private const string ErrorDomain = "interop.invisible.test";
    private const string EchoInitialKey = "x-grpc-test-echo-initial";
    private const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";

    /// <summary>
    /// Grpc.AspNetCore's per-call switch for response compression: this response header (never sent to the client)
    /// makes the call's messages gzip-compressed when the client accepts gzip; <see cref="WriteFlags.NoCompress"/> then
    /// exempts single messages. The product compresses all responses or none (Rpc:CompressResponses); the interop cases
    /// need to choose per call and per message.
    /// </summary>
    private const string CompressResponseHeader = "grpc-internal-encoding-request";

    public override Task<Empty> EmptyCall(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public override async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        EnsureCompressedWhenExpected(request.ExpectCompressed, context);
        await EchoMetadataAsync(context, compressResponses: request.ResponseCompressed?.Value == true);
        ThrowRequestedStatus(request.ResponseStatus);
        return new SimpleResponse { Payload = PayloadOf(request.ResponseSize) };
    }

    public override async Task StreamingOutputCall(
        StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context, compressResponses: request.ResponseParameters.Any(p => p.Compressed?.Value == true));
        await WriteResponsesAsync(request.ResponseParameters, responseStream, context);
        ThrowRequestedStatus(request.ResponseStatus);
    }

    public override async Task<StreamingInputCallResponse> StreamingInputCall(
        IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
    {
        var total = 0;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            EnsureCompressedWhenExpected(request.ExpectCompressed, context);
            total += request.Payload?.Body.Length ?? 0;
        }

        return new StreamingInputCallResponse { AggregatedPayloadSize = total };
    }

    /// <summary>ping_pong: each request is answered as it arrives.</summary>
    public override async Task FullDuplexCall(
        IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context, compressResponses: false);
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            ThrowRequestedStatus(request.ResponseStatus);
            await WriteResponsesAsync(request.ResponseParameters, responseStream, context);
        }
    }

    /// <summary>Buffers every request, then answers them all once the client half-closes.</summary>
    public override async Task HalfDuplexCall(
        IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        var requests = new List<StreamingOutputCallRequest>();
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            requests.Add(request);
        }

        foreach (var request in requests)
        {
            await WriteResponsesAsync(request.ResponseParameters, responseStream, context);
        }
    }

    private static async Task WriteResponsesAsync(
        IEnumerable<ResponseParameters> parameters, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        foreach (var parameter in parameters)
        {
            if (parameter.IntervalUs > 0)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(parameter.IntervalUs), context.CancellationToken);
            }

            responseStream.WriteOptions = parameter.Compressed?.Value == true ? null : new WriteOptions(WriteFlags.NoCompress);
            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = PayloadOf(parameter.Size) }, context.CancellationToken);
        }
    }

    /// <summary>
    /// Whether the request message was compressed, read from its <c>grpc-encoding</c> header as grpc-dotnet's own interop
    /// server does: Grpc.AspNetCore decompresses before the handler and does not expose the frame's compressed flag.
    /// <see cref="ServerCallContext.RequestHeaders"/> leaves grpc-* headers out, hence the HTTP request.
    /// </summary>
    private static void EnsureCompressedWhenExpected(BoolValue? expectCompressed, ServerCallContext context)
    {
        var encoding = context.GetHttpContext().Request.Headers["grpc-encoding"].ToString();
        if (expectCompressed?.Value == true && encoding is "" or "identity")
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "Expected a compressed request message."));
        }
    }

    private static async Task EchoMetadataAsync(ServerCallContext context, bool compressResponses)
    {
        var headers = new Metadata();
        if (context.RequestHeaders.Get(EchoInitialKey) is { } initial)
        {
            headers.Add(initial);
        }

        if (compressResponses)
        {
            headers.Add(CompressResponseHeader, "gzip");
        }

        if (headers.Count > 0)
        {
            await context.WriteResponseHeadersAsync(headers);
        }

        if (context.RequestHeaders.Get(EchoTrailingKey) is { } trailing)
        {
            context.ResponseTrailers.Add(trailing);
        }
    }

    /// <summary>
    /// Invisible's extension of the interop server: a message "reason:REASON_CODE" throws a <see cref="DomainException"/>
    /// with that reason, which the product's ErrorInterceptor turns into google.rpc.ErrorInfo, so clients prove they
    /// decode grpc-status-details-bin as the product sends it.
    /// </summary>
    private static void ThrowRequestedStatus(EchoStatus? status)
    {
        const string reasonPrefix = "reason:";
        if (status is { Code: not 0 } && status.Message.StartsWith(reasonPrefix, StringComparison.Ordinal))
        {
            throw DomainException.WithReason((ErrorKind)status.Code, status.Message, status.Message[reasonPrefix.Length..], ErrorDomain);
        }

        if (status is { Code: not 0 })
        {
            throw new RpcException(new Status((StatusCode)status.Code, status.Message));
        }
    }

    private static Payload PayloadOf(int size) => new() { Type = PayloadType.Compressable, Body = ByteString.CopyFrom(new byte[size]) };
}
