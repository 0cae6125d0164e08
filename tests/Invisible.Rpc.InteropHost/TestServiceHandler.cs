using Google.Protobuf;
using Grpc.Testing;
using Invisible.Rpc;

namespace Invisible.Rpc.InteropHost;

/// <summary>
/// grpc.testing.TestService as the gRPC interop spec (doc/interop-test-descriptions.md) describes the server:
/// payloads of the requested sizes, echoed metadata, requested statuses and compression.
/// </summary>
public sealed class TestServiceHandler
{
    /// <summary>Client-streaming and bidirectional methods, which Invisible.Rpc does not serve, plus the one meant to be missing.</summary>
    public static readonly string[] Unimplemented = ["StreamingInputCall", "FullDuplexCall", "HalfDuplexCall", "UnimplementedMethod"];

    private const string ErrorDomain = "interop.invisible.test";
    private const string EchoInitialKey = "x-grpc-test-echo-initial";
    private const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";

    public Task<Empty> EmptyCall(Empty request, RpcCallContext context) => Task.FromResult(new Empty());

    public Task<SimpleResponse> UnaryCall(SimpleRequest request, RpcCallContext context)
    {
        EchoMetadata(context);
        if (request.ExpectCompressed?.Value == true && !context.RequestCompressed)
        {
            throw new RpcException(StatusCode.InvalidArgument, "Expected a compressed request message.");
        }

        ThrowRequestedStatus(request.ResponseStatus);
        context.CompressResponses = request.ResponseCompressed?.Value == true;
        return Task.FromResult(new SimpleResponse { Payload = PayloadOf(request.ResponseSize) });
    }

    public async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> stream, RpcCallContext context)
    {
        EchoMetadata(context);
        foreach (var parameters in request.ResponseParameters)
        {
            if (parameters.IntervalUs > 0)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(parameters.IntervalUs), context.CancellationToken);
            }

            context.CompressResponses = parameters.Compressed?.Value == true;
            await stream.WriteAsync(new StreamingOutputCallResponse { Payload = PayloadOf(parameters.Size) }, context.CancellationToken);
        }

        ThrowRequestedStatus(request.ResponseStatus);
    }

    private static void EchoMetadata(RpcCallContext context)
    {
        if (context.RequestHeaders.GetValue(EchoInitialKey) is { } initial)
        {
            context.ResponseHeaders.Add(EchoInitialKey, initial);
        }

        if (context.RequestHeaders.GetBytes(EchoTrailingKey) is { } trailing)
        {
            context.ResponseTrailers.Add(EchoTrailingKey, trailing);
        }
    }

    /// <summary>
    /// Invisible's extension of the interop server: a message "reason:REASON_CODE" produces a domain error with that
    /// reason in google.rpc.ErrorInfo, so clients can prove they decode grpc-status-details-bin.
    /// </summary>
    private static void ThrowRequestedStatus(EchoStatus? status)
    {
        const string reasonPrefix = "reason:";
        if (status is { Code: not 0 } && status.Message.StartsWith(reasonPrefix, StringComparison.Ordinal))
        {
            throw RpcException.WithReason((StatusCode)status.Code, status.Message, status.Message[reasonPrefix.Length..], ErrorDomain);
        }

        if (status is { Code: not 0 })
        {
            throw new RpcException((StatusCode)status.Code, status.Message);
        }
    }

    private static Payload PayloadOf(int size) => new() { Type = PayloadType.Compressable, Body = ByteString.CopyFrom(new byte[size]) };
}
