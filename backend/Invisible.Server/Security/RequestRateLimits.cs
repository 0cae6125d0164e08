using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Security;

/// <summary>
/// Limits on what one caller and one tenant may ask of the server, section <c>RateLimits</c>. The defaults are the
/// product's policy; an operator raises them for a busy tenant, tests for their bursts. Sign-in, MFA and refresh keep their
/// own, stricter limits (<see cref="AuthRateLimiter"/>).
/// </summary>
public sealed class RequestRateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests per second one caller (a person, an API key, or an anonymous source address) may make on average.</summary>
    [Range(0.0001, int.MaxValue)]
    public double CallerRequestsPerSecond { get; set; } = 20;

    /// <summary>Requests one caller may make at once after being idle (the token bucket's size).</summary>
    [Range(1, int.MaxValue)]
    public int CallerBurst { get; set; } = 100;

    /// <summary>Requests per second over all callers of one tenant.</summary>
    [Range(0.0001, int.MaxValue)]
    public double TenantRequestsPerSecond { get; set; } = 200;

    [Range(1, int.MaxValue)]
    public int TenantBurst { get; set; } = 400;

    /// <summary>Heavy calls (<see cref="RequestRateLimits.HeavyCall"/>: reconcile, tolerance preview, exports, uploads) running at once per tenant.</summary>
    [Range(1, int.MaxValue)]
    public int HeavyCallsPerTenant { get; set; } = 4;

    /// <summary>Open <c>Watch</c> streams per person or API key (a browser tab holds one).</summary>
    [Range(1, int.MaxValue)]
    public int WatchStreamsPerCaller { get; set; } = 8;
}

/// <summary>
/// ASP.NET Core's rate limiter on every RPC and its REST mapping, after authentication so the caller is known: a token
/// bucket per caller chained with one per tenant, and concurrency limits named by endpoint metadata
/// (<c>[EnableRateLimiting(RequestRateLimits.HeavyCall)]</c>). A refusal is RESOURCE_EXHAUSTED with
/// <c>google.rpc.RetryInfo</c> and a <c>retry-after</c> trailer, or HTTP 429 with <c>Retry-After</c> on REST. Static files and
/// health endpoints are not limited.
/// </summary>
public static class RequestRateLimits
{
    public const string Domain = "limits.invisible.app";

    /// <summary>Policy of the calls that read or write a tenant's whole data set: limited in concurrency per tenant.</summary>
    public const string HeavyCall = "heavy-call";

    /// <summary>Policy of the long-lived <c>Watch</c> stream: limited in concurrency per caller.</summary>
    public const string WatchStream = "watch-stream";

    /// <summary>Seconds a refused concurrent call should wait: a heavy call typically ends within this.</summary>
    private static readonly TimeSpan ConcurrencyRetryAfter = TimeSpan.FromSeconds(2);

    public static IServiceCollection AddRequestRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RequestRateLimitOptions>().BindConfiguration(RequestRateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RequestRateLimitOptions>>((limiter, configured) =>
        {
            var limits = configured.Value;
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(PerCaller(limits), PerTenant(limits));
            limiter.AddPolicy(HeavyCall, http => CallerPrincipal.Read(http.User) is { } caller
                ? RateLimitPartition.GetConcurrencyLimiter(
                    caller.TenantId.ToString(), _ => new ConcurrencyLimiterOptions { PermitLimit = limits.HeavyCallsPerTenant, QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.AddPolicy(WatchStream, http => CallerPrincipal.Read(http.User) is { } caller
                ? RateLimitPartition.GetConcurrencyLimiter(
                    caller.UserId.ToString(), _ => new ConcurrencyLimiterOptions { PermitLimit = limits.WatchStreamsPerCaller, QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = RefuseAsync;
        });
        return services;
    }

    private static PartitionedRateLimiter<HttpContext> PerCaller(RequestRateLimitOptions limits) => PartitionedRateLimiter.Create<HttpContext, string>(http =>
    {
        if (!ErrorResponses.IsApiRequest(http))
        {
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }

        // Anonymous calls (sign-in, health) share a bucket per source address: the real client's once forwarded headers are honoured.
        var key = CallerPrincipal.Read(http.User) is { } caller
            ? "caller:" + caller.UserId
            : "address:" + http.Connection.RemoteIpAddress;
        return RateLimitPartition.GetTokenBucketLimiter(key, _ => Bucket(limits.CallerRequestsPerSecond, limits.CallerBurst));
    });

    private static PartitionedRateLimiter<HttpContext> PerTenant(RequestRateLimitOptions limits) => PartitionedRateLimiter.Create<HttpContext, string>(http =>
        ErrorResponses.IsApiRequest(http) && CallerPrincipal.Read(http.User) is { } caller
            ? RateLimitPartition.GetTokenBucketLimiter("tenant:" + caller.TenantId, _ => Bucket(limits.TenantRequestsPerSecond, limits.TenantBurst))
            : RateLimitPartition.GetNoLimiter(string.Empty));

    /// <summary>A bucket of <paramref name="burst"/> tokens refilled at <paramref name="perSecond"/> (below one: one token every so many seconds).</summary>
    private static TokenBucketRateLimiterOptions Bucket(double perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond >= 1 ? (int)Math.Round(perSecond) : 1,
        ReplenishmentPeriod = perSecond >= 1 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1 / perSecond),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static async ValueTask RefuseAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var http = rejected.HttpContext;
        var concurrency = !rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
        var wait = concurrency ? ConcurrencyRetryAfter : TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)));
        var seconds = ((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var refusal = concurrency
            ? DomainException.WithReason(
                ErrorKind.ResourceExhausted, "Too many of these calls are running at once. Try again when one has finished.",
                "TOO_MANY_CONCURRENT_CALLS", Domain, new Dictionary<string, string> { ["retry_after_seconds"] = seconds }, wait)
            : DomainException.WithReason(
                ErrorKind.ResourceExhausted, "Too many requests. Slow down and try again shortly.",
                "RATE_LIMITED", Domain, new Dictionary<string, string> { ["retry_after_seconds"] = seconds }, wait);
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestRateLimits))
            .LogInformation("{Path} refused: {Reason}", http.Request.Path, refusal.Reason);
        if (!ErrorResponses.IsApiRequest(http) || http.Response.HasStarted)
        {
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return;
        }

        http.Response.Headers["retry-after"] = seconds;
        await ErrorResponses.WriteAsync(http, refusal);
    }
}
