using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;

namespace Invisible.Server.Tests.Accounts;

/// <summary>
/// The outcome of one real gRPC call: status, the <c>ErrorInfo.reason</c> clients branch on, and the response (for a server
/// stream, every message received before it ended).
/// </summary>
public sealed record RpcReply(StatusCode Status, string Message, string? Reason, IReadOnlyList<IMessage> Messages)
{
    public IMessage? Response => Messages.Count > 0 ? Messages[0] : null;

    public T As<T>()
        where T : IMessage => Status == StatusCode.OK ? (T)Response! : throw new InvalidOperationException($"The call failed: {Status} {Reason} {Message}");

    public override string ToString() => $"{Status} {Reason} '{Message}'";
}

/// <summary>
/// Calls any method of a proto descriptor over native gRPC (h2c) with Grpc.Net.Client, so that a test can walk every RPC
/// the product defines without a generated client per service.
/// </summary>
public sealed class GrpcTestChannel(Uri grpcEndpoint) : IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(grpcEndpoint, new GrpcChannelOptions { MaxReceiveMessageSize = null });

    /// <param name="deadline">Sent as <c>grpc-timeout</c>, so that endless server streams end too.</param>
    public async Task<RpcReply> CallAsync(MethodDescriptor method, IMessage request, string? accessToken = null, string? apiKey = null, TimeSpan? deadline = null)
    {
        var headers = new Metadata();
        if (accessToken is not null)
        {
            headers.Add("authorization", $"Bearer {accessToken}");
        }

        if (apiKey is not null)
        {
            headers.Add("x-api-key", apiKey);
        }

        var options = new CallOptions(headers, DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(30)));
        var call = new Method<IMessage, IMessage>(
            method.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary,
            method.Service.FullName,
            method.Name,
            Marshallers.Create<IMessage>(message => message.ToByteArray(), _ => throw new NotSupportedException("Requests are only sent.")),
            Marshallers.Create<IMessage>(_ => throw new NotSupportedException("Responses are only received."), bytes => method.OutputType.Parser.ParseFrom(bytes)));
        var invoker = _channel.CreateCallInvoker();
        var messages = new List<IMessage>();
        try
        {
            if (method.IsServerStreaming)
            {
                using var stream = invoker.AsyncServerStreamingCall(call, null, options, request);
                await foreach (var message in stream.ResponseStream.ReadAllAsync())
                {
                    messages.Add(message);
                }
            }
            else
            {
                messages.Add(await invoker.AsyncUnaryCall(call, null, options, request));
            }

            return new RpcReply(StatusCode.OK, string.Empty, null, messages);
        }
        catch (RpcException exception)
        {
            var reason = exception.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;
            return new RpcReply(exception.StatusCode, exception.Status.Detail, reason, messages);
        }
    }

    public void Dispose() => _channel.Dispose();
}
