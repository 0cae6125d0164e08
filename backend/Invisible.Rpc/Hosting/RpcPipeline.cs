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

    public Task RunAsync(RpcMethodBinding method, RpcHttpCall call, RpcCallContext context) => Next(0, method, call, context);

    private Task Next(int index, RpcMethodBinding method, RpcHttpCall call, RpcCallContext context) =>
        index == _interceptors.Length
            ? method.InvokeAsync(call, context)
            : _interceptors[index].InterceptAsync(context, c => Next(index + 1, method, call, c));
}

/// <summary>Interceptor types registered by the application, in order.</summary>
internal sealed class RpcInterceptorTypes
{
    public List<Type> Types { get; } = [];
}
