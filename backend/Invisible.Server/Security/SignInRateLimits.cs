using System.Globalization;
using System.Threading.RateLimiting;
using Invisible.Identity.Tokens;
using Invisible.Rpc;
using Invisible.Rpc.Interception;
using Invisible.Server.Accounts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Rpc;

/// <summary>
/// Enforces the <see cref="RpcAccessAttribute"/> of the called method, after authentication: anonymous methods pass, the
/// rest need a caller; role methods need one of the roles and the second factor. A method without a declared policy is
/// refused. Rate-limited methods count against fixed windows per source address and, once known, per account.
/// </summary>
public sealed class AccessPolicyInterceptor(RpcAccessPolicies policies, AuthRateLimiter rateLimiter, ILogger<AccessPolicyInterceptor> logger)
    : IRpcInterceptor
{
    public async Task InterceptAsync(RpcCallContext context, RpcContinuation next)
    {
        var method = context.Method.FullName;
        var policy = policies.Find(method);
        if (policy is null)
        {
            logger.LogError("{Method} has no access policy ([RpcAccess] on its handler method); refusing the call", method);
            throw Denied("NO_ACCESS_POLICY", "This method is not available.");
        }

        var caller = policy.Level == RpcAccessLevel.Anonymous ? null : context.Caller();
        if (policy.RateLimited)
        {
            using var lease = rateLimiter.Acquire(method, context.Address(), caller?.UserId);
            if (!lease.IsAcquired)
            {
                throw AuthErrors.TooManyAttempts(lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1));
            }
        }

        switch (policy.Level)
        {
            case not RpcAccessLevel.Anonymous when policy.PeopleOnly && caller!.Kind != CallerKind.User:
                throw Denied("USER_SESSION_REQUIRED", "This method is for people signed in, not API keys.");
            case RpcAccessLevel.Roles when !caller!.MfaSatisfied:
                throw Denied("MFA_REQUIRED", "Complete multi-factor authentication first.");
            case RpcAccessLevel.Roles when !policy.Roles.Contains(caller!.Role, StringComparer.Ordinal):
                throw Denied("ROLE_NOT_PERMITTED", string.Create(CultureInfo.InvariantCulture, $"The role '{caller.Role}' may not do this."));
        }

        await next(context);
    }

    private static RpcException Denied(string reason, string message) =>
        RpcException.WithReason(StatusCode.PermissionDenied, message, reason, AuthErrors.Domain);
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
