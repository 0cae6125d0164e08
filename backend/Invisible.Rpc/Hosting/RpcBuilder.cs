using Invisible.Rpc.Binding;
using Invisible.Rpc.Interception;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Rpc.Hosting;

/// <summary>Registers services, interceptors and hooks of the gRPC layer; returned by <c>AddInvisibleRpc</c>.</summary>
public sealed class RpcBuilder
{
    private readonly RpcServiceRegistry _registry;
    private readonly RpcInterceptorTypes _interceptors;

    internal RpcBuilder(IServiceCollection services, RpcServiceRegistry registry, RpcInterceptorTypes interceptors)
    {
        Services = services;
        _registry = registry;
        _interceptors = interceptors;
    }

    public IServiceCollection Services { get; }

    /// <summary>
    /// Serves <paramref name="service"/> with <typeparamref name="THandler"/> (scoped: one instance per call).
    /// Binds now: a missing or mistyped handler method throws <see cref="RpcBindingException"/>.
    /// Methods named in <paramref name="leaveUnimplemented"/> answer UNIMPLEMENTED.
    /// </summary>
    public RpcBuilder AddService<THandler>(Google.Protobuf.Reflection.ServiceDescriptor service, params IEnumerable<string> leaveUnimplemented)
        where THandler : class
    {
        _registry.Add(service.FullName, RpcServiceBinder.Bind(typeof(THandler), service, leaveUnimplemented.ToHashSet(StringComparer.Ordinal)));
        Services.TryAddScoped<THandler>();
        return this;
    }

    /// <summary>Adds an interceptor after the built-in ones (logging, exception mapping, authentication).</summary>
    public RpcBuilder AddInterceptor<TInterceptor>()
        where TInterceptor : class, IRpcInterceptor
    {
        _interceptors.Types.Add(typeof(TInterceptor));
        return this;
    }

    public RpcBuilder AddExceptionMapper<TMapper>()
        where TMapper : class, IRpcExceptionMapper
    {
        Services.AddSingleton<IRpcExceptionMapper, TMapper>();
        return this;
    }

    /// <summary>Sets the authentication hook (one per application).</summary>
    public RpcBuilder AddAuthenticator<TAuthenticator>()
        where TAuthenticator : class, IRpcAuthenticator
    {
        Services.Replace(ServiceDescriptor.Singleton<IRpcAuthenticator, TAuthenticator>());
        return this;
    }
}
