using System.Security.Claims;

namespace Invisible.Rpc.Interception;

/// <summary>
/// The authentication hook: reads credentials from the call's metadata (e.g. <c>authorization</c>) and returns
/// the caller, or null for an anonymous call. Throw <see cref="RpcException"/> with UNAUTHENTICATED for
/// credentials that are present but invalid. Authorisation stays with the handlers, which see <see cref="RpcCallContext.User"/>.
/// </summary>
public interface IRpcAuthenticator
{
    ValueTask<ClaimsPrincipal?> AuthenticateAsync(RpcCallContext context, CancellationToken cancellationToken);
}

/// <summary>Runs the registered <see cref="IRpcAuthenticator"/> before the handler and sets <see cref="RpcCallContext.User"/>.</summary>
public sealed class AuthenticationInterceptor(IRpcAuthenticator authenticator) : IRpcInterceptor
{
    public async Task InterceptAsync(RpcCallContext context, RpcContinuation next)
    {
        if (await authenticator.AuthenticateAsync(context, context.CancellationToken) is { } user)
        {
            context.User = user;
        }

        await next(context);
    }
}
