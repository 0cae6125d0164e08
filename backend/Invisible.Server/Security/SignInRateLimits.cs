using System.Threading.RateLimiting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Invisible.Server.Accounts;
using Invisible.Server.Rpc;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Security;

/// <summary>Counts calls of this method against the sign-in rate limits (<see cref="AuthRateLimiter"/>): sign-in, MFA, refresh.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SignInRateLimitedAttribute : Attribute;

/// <summary>
/// Applies <see cref="AuthRateLimiter"/> to the methods marked <see cref="SignInRateLimitedAttribute"/>, per source address
/// and, once the caller is known, per account. A refusal is RESOURCE_EXHAUSTED (TOO_MANY_ATTEMPTS) with the time to wait.
/// </summary>
public sealed class SignInRateLimitInterceptor(AuthRateLimiter rateLimiter) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<SignInRateLimitedAttribute>() is not null)
        {
            using var lease = rateLimiter.Acquire(context.Method, context.Address(), CallerPrincipal.Read(context.GetHttpContext().User)?.UserId);
            if (!lease.IsAcquired)
            {
                throw AuthErrors.TooManyAttempts(lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1));
            }
        }

        return continuation(request, context);
    }
}

/// <summary>
/// ASP.NET Core's fixed-window limiter (System.Threading.RateLimiting) for sign-in, MFA and refresh, partitioned by method and
/// source address, and by method and account when the caller is known. The persistent lockout with back-off is
/// <see cref="SignInThrottles"/>; this only caps the request rate.
/// </summary>
public sealed class AuthRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public AuthRateLimiter(IOptions<AccountsOptions> options)
    {
        var permits = options.Value.RateLimitPerMinute;
        _limiter = PartitionedRateLimiter.Create<string, string>(partition => RateLimitPartition.GetFixedWindowLimiter(
            partition, _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    public RateLimitLease Acquire(string method, string address, Guid? account)
    {
        var byAddress = _limiter.AttemptAcquire($"{method}|{address}");
        if (!byAddress.IsAcquired || account is not { } user)
        {
            return byAddress;
        }

        byAddress.Dispose();
        return _limiter.AttemptAcquire($"{method}|{user}");
    }

    public void Dispose() => _limiter.Dispose();
}
