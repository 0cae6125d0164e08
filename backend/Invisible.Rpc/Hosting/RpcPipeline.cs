using Invisible.Rpc.Binding;
using Invisible.Rpc.Interception;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Rpc.Hosting;

/// <summary>The interceptor chain in its fixed order; see <see cref="IRpcInterceptor"/>.</summary>
internal sealed class RpcPipeline
{
    private readonly IRpcInterceptor[] _interceptors;

    public RpcPipeline(IServiceProvider services, RpcInterceptorTypes customInterceptors)
    {
        var authenticator = services.GetService<IRpcAuthenticator>();
        _interceptors =
        [
            ActivatorUtilities.CreateInstance<RequestLoggingInterceptor>(services),
            ActivatorUtilities.CreateInstance<ExceptionMappingInterceptor>(services),
            .. authenticator is null ? Array.Empty<IRpcInterceptor>() : [new AuthenticationInterceptor(authenticator)],
            .. customInterceptors.Types.Select(type => (IRpcInterceptor)ActivatorUtilities.CreateInstance(services, type)),
        ];
    }

    /// <summary>Runs the interceptors, then the method, for a call whose context carries its <see cref="RpcHttpCall"/>.</summary>
    public Task RunAsync(RpcMethodBinding method, RpcCallContext context)
    {
        // The chain of continuations is the same for every call of a method, so it is built once per method rather than
        // allocated per call; a race builds it twice, harmlessly.
        var chain = method.Pipeline ??= Build(method);
        return chain(context);
    }

    private RpcContinuation Build(RpcMethodBinding method)
    {
        RpcContinuation chain = context => method.InvokeAsync(context.Call!, context);
        for (var index = _interceptors.Length - 1; index >= 0; index--)
        {
            var interceptor = _interceptors[index];
            var next = chain;
            chain = context => interceptor.InterceptAsync(context, next);
        }

        return chain;
    }
}

/// <summary>Interceptor types registered by the application, in order.</summary>
internal sealed class RpcInterceptorTypes
{
    public List<Type> Types { get; } = [];
}
