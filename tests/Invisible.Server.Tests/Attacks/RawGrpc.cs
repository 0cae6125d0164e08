using Google.Protobuf.Reflection;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Server.Tests.Accounts;

namespace Invisible.Server.Tests.Attacks;

/// <summary>
/// gRPC calls with the request as raw bytes and any headers, for what a generated client cannot send: malformed and
/// oversize messages, a chosen <c>x-request-id</c>.
/// </summary>
public sealed class RawGrpc(Uri grpcEndpoint) : IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(
        grpcEndpoint, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });

    public async Task<RpcReply> CallAsync(
        MethodDescriptor method, byte[] request, string? accessToken, TimeSpan deadline, IReadOnlyDictionary<string, string>? headers = null)
    {
        var metadata = new Metadata();
        if (accessToken is not null)
        {
            metadata.Add("authorization", $"Bearer {accessToken}");
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            metadata.Add(name, value);
        }

        var call = new Method<byte[], byte[]>(
            method.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary,
            method.Service.FullName,
            method.Name,
            Marshallers.Create<byte[]>(bytes => bytes, bytes => bytes),
            Marshallers.Create<byte[]>(bytes => bytes, bytes => bytes));
        var options = new CallOptions(metadata, DateTime.UtcNow + deadline);
        var invoker = _channel.CreateCallInvoker();
        var messages = new List<Google.Protobuf.IMessage>();
        try
        {
            if (method.IsServerStreaming)
            {
                using var stream = invoker.AsyncServerStreamingCall(call, null, options, request);
                await foreach (var message in stream.ResponseStream.ReadAllAsync())
                {
                    messages.Add(method.OutputType.Parser.ParseFrom(message));
                }
            }
            else
            {
                messages.Add(method.OutputType.Parser.ParseFrom(await invoker.AsyncUnaryCall(call, null, options, request)));
            }

            return new RpcReply(StatusCode.OK, string.Empty, null, messages);
        }
        catch (RpcException exception)
        {
            return new RpcReply(exception.StatusCode, exception.Status.Detail, exception.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason, messages);
        }
    }

    public void Dispose() => _channel.Dispose();
}
