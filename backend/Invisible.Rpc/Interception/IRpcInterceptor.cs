namespace Invisible.Rpc.Interception;

/// <summary>The rest of the pipeline after an interceptor: later interceptors, then the handler.</summary>
public delegate Task RpcContinuation(RpcCallContext context);

/// <summary>
/// Wraps every call. Interceptors run in this order: request logging, exception mapping, authentication,
/// then the ones registered with <c>AddInterceptor</c> in registration order, then the handler.
/// Whatever an interceptor throws is mapped to a status in one place (<see cref="ExceptionMappingInterceptor"/>).
/// </summary>
public interface IRpcInterceptor
{
    Task InterceptAsync(RpcCallContext context, RpcContinuation next);
}
