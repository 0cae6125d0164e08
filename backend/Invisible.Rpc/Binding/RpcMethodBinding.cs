using Google.Protobuf;
using Google.Protobuf.Reflection;
using Invisible.Rpc.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Rpc.Binding;

/// <summary>One proto method bound to a handler method; invoked at the end of the interceptor pipeline.</summary>
internal abstract class RpcMethodBinding(MethodDescriptor descriptor)
{
    public MethodDescriptor Descriptor { get; } = descriptor;

    /// <summary>The HTTP path, "/{package}.{Service}/{Method}".</summary>
    public string Path { get; } = $"/{descriptor.Service.FullName}/{descriptor.Name}";

    /// <summary>The interceptors followed by this method, built on the first call by <see cref="RpcPipeline"/>.</summary>
    public Interception.RpcContinuation? Pipeline { get; set; }

    public abstract Task InvokeAsync(RpcHttpCall call, RpcCallContext context);
}

internal sealed class UnaryMethodBinding<THandler, TRequest, TResponse>(
    MethodDescriptor descriptor,
    Func<THandler, TRequest, RpcCallContext, Task<TResponse>> handlerMethod) : RpcMethodBinding(descriptor)
    where THandler : notnull
    where TRequest : IMessage<TRequest>
    where TResponse : IMessage<TResponse>
{
    private readonly MessageParser<TRequest> _parser = (MessageParser<TRequest>)descriptor.InputType.Parser;

    public override async Task InvokeAsync(RpcHttpCall call, RpcCallContext context)
    {
        var request = await call.ReadRequestAsync(_parser, context.CancellationToken);
        var handler = context.Services.GetRequiredService<THandler>();
        var response = await handlerMethod(handler, request, context);
        await call.WriteMessageAsync(response, flush: false, context.CancellationToken);
    }
}

internal sealed class ServerStreamingMethodBinding<THandler, TRequest, TResponse>(
    MethodDescriptor descriptor,
    Func<THandler, TRequest, IServerStreamWriter<TResponse>, RpcCallContext, Task> handlerMethod) : RpcMethodBinding(descriptor)
    where THandler : notnull
    where TRequest : IMessage<TRequest>
    where TResponse : IMessage<TResponse>
{
    private readonly MessageParser<TRequest> _parser = (MessageParser<TRequest>)descriptor.InputType.Parser;

    public override async Task InvokeAsync(RpcHttpCall call, RpcCallContext context)
    {
        var request = await call.ReadRequestAsync(_parser, context.CancellationToken);
        var handler = context.Services.GetRequiredService<THandler>();
        await handlerMethod(handler, request, new ResponseStream(call), context);
    }

    private sealed class ResponseStream(RpcHttpCall call) : IServerStreamWriter<TResponse>
    {
        public Task WriteAsync(TResponse message, CancellationToken cancellationToken = default) =>
            call.WriteMessageAsync(message, flush: true, cancellationToken).AsTask();
    }
}
