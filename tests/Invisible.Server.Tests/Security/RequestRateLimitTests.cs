using System.Net;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Events.V1;
using Invisible.Contracts.Matching.V1;
using Invisible.Server.Accounts;
using Invisible.Server.Tests.Accounts;

namespace Invisible.Server.Tests.Security;

/// <summary>
/// Buckets that hold a few requests and are not refilled during a test (one request per thousand seconds), so what is
/// refused follows from the counts alone, not from the machine's speed.
/// </summary>
public sealed class TightBucketServer : AccountsServer
{
    public const int CallerBurst = 5;
    public const int TenantBurst = 8;

    protected override IEnumerable<string> Settings =>
    [
        .. base.Settings.Where(setting => !setting.StartsWith("--RateLimits:", StringComparison.Ordinal)),
        "--RateLimits:CallerRequestsPerSecond=0.001", $"--RateLimits:CallerBurst={CallerBurst}",
        "--RateLimits:TenantRequestsPerSecond=0.001", $"--RateLimits:TenantBurst={TenantBurst}",
    ];
}

/// <summary>One heavy call per tenant and one open <c>Watch</c> per caller; request rates far above what the tests make.</summary>
public sealed class SingleConcurrencyServer : AccountsServer
{
    protected override IEnumerable<string> Settings =>
    [
        .. base.Settings.Where(setting => !setting.Contains("HeavyCallsPerTenant", StringComparison.Ordinal) && !setting.Contains("WatchStreamsPerCaller", StringComparison.Ordinal)),
        "--RateLimits:HeavyCallsPerTenant=1", "--RateLimits:WatchStreamsPerCaller=1",
    ];
}

public sealed class RequestRateLimitTests(TightBucketServer server) : IClassFixture<TightBucketServer>
{
    [Fact]
    public async Task A_caller_past_its_burst_is_refused_with_resource_exhausted_and_how_long_to_wait()
    {
        var tenant = await server.NewTenantAsync();
        var key = await ApiKeyAsync(tenant, "clerk");
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var matching = new MatchingService.MatchingServiceClient(channel);

        RpcException? refusal = null;
        for (var call = 0; call <= TightBucketServer.CallerBurst && refusal is null; call++)
        {
            try
            {
                await matching.GetDashboardAsync(new GetDashboardRequest(), WithKey(key));
            }
            catch (RpcException exception)
            {
                refusal = exception;
            }
        }

        Assert.NotNull(refusal);
        var status = refusal.GetRpcStatus();
        Assert.Equal(
            (StatusCode.ResourceExhausted, "RATE_LIMITED", true, true),
            (refusal.StatusCode, status?.GetDetail<ErrorInfo>()?.Reason, status?.GetDetail<RetryInfo>()?.RetryDelay.Seconds > 0,
             int.TryParse(refusal.Trailers.GetValue("retry-after"), out var seconds) && seconds > 0));
    }

    [Fact]
    public async Task Callers_of_one_tenant_have_their_own_buckets_until_the_tenants_bucket_is_empty()
    {
        var tenant = await server.NewTenantAsync();
        var first = await ApiKeyAsync(tenant, "clerk");
        var second = await ApiKeyAsync(tenant, "clerk");

        var firstCallers = await DashboardCallsAsync(tenant, first, TightBucketServer.CallerBurst + 1);
        var secondCallers = await DashboardCallsAsync(tenant, second, TightBucketServer.CallerBurst);

        // The first key spends its own five and is refused; the second gets the three the tenant has left, not its own five.
        Assert.Equal(
            (TightBucketServer.CallerBurst, TightBucketServer.TenantBurst - TightBucketServer.CallerBurst),
            (firstCallers.Count(status => status == StatusCode.OK), secondCallers.Count(status => status == StatusCode.OK)));
    }

    [Fact]
    public async Task A_REST_call_past_the_burst_is_answered_429_with_retry_after()
    {
        var tenant = await server.NewTenantAsync();
        var key = await ApiKeyAsync(tenant, "clerk");
        using var http = new HttpClient { BaseAddress = new Uri(server.Server.Endpoints.Http) };

        HttpResponseMessage? last = null;
        for (var call = 0; call <= TightBucketServer.CallerBurst; call++)
        {
            last?.Dispose();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/dashboard");
            request.Headers.Add(CallerAuthenticationHeader, key);
            last = await http.SendAsync(request);
        }

        using var refused = last!;
        Assert.Equal((HttpStatusCode.TooManyRequests, true), (refused.StatusCode, refused.Headers.RetryAfter?.Delta > TimeSpan.Zero));
    }

    private const string CallerAuthenticationHeader = "x-api-key";

    private async Task<List<StatusCode>> DashboardCallsAsync(TestTenant tenant, string key, int calls)
    {
        var outcomes = new List<StatusCode>();
        for (var call = 0; call < calls; call++)
        {
            outcomes.Add((await tenant.CallAsync(MatchingReflection.Descriptor.Services[0].FindMethodByName("GetDashboard"), new GetDashboardRequest(), apiKey: key)).Status);
        }

        return outcomes;
    }

    internal static async Task<string> ApiKeyAsync(TestTenant tenant, string role, AccountsServer server) =>
        (await LocalOperator.CreateApiKeyAsync(server.Server.Services, tenant.Slug, "limits " + Guid.NewGuid().ToString("N")[..6], role, expiresAt: null, CancellationToken.None)).Key;

    private Task<string> ApiKeyAsync(TestTenant tenant, string role) => ApiKeyAsync(tenant, role, server);

    internal static CallOptions WithKey(string key) => new(new Metadata { { CallerAuthenticationHeader, key } }, DateTime.UtcNow.AddSeconds(30));
}

public sealed class ConcurrencyLimitTests(SingleConcurrencyServer server) : IClassFixture<SingleConcurrencyServer>
{
    [Fact]
    public async Task A_second_heavy_call_of_a_tenant_is_refused_while_the_first_is_still_running()
    {
        var tenant = await server.NewTenantAsync();
        var key = await RequestRateLimitTests.ApiKeyAsync(tenant, "clerk", server);
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var matching = new MatchingService.MatchingServiceClient(channel);

        var held = await HoldReconcileAsync(key);
        StatusCode? refused = null;
        // The held call takes its permit once the server has read its head, which a loaded machine may take seconds to do.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        try
        {
            while (refused is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
                if (held.Answered)
                {
                    // It arrived while one of our exports held the only permit and was refused itself: hold another.
                    held.Dispose();
                    held = await HoldReconcileAsync(key);
                    continue;
                }

                try
                {
                    await matching.ExportResultsAsync(new ExportResultsRequest(), RequestRateLimitTests.WithKey(key));
                }
                catch (RpcException exception) when (exception.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason == "TOO_MANY_CONCURRENT_CALLS")
                {
                    refused = exception.StatusCode;
                }
            }
        }
        finally
        {
            held.Dispose();
        }

        Assert.Equal(StatusCode.ResourceExhausted, refused);
    }

    [Fact]
    public async Task A_caller_may_hold_only_its_allowed_number_of_open_watch_streams()
    {
        var tenant = await server.NewTenantAsync();
        var key = await RequestRateLimitTests.ApiKeyAsync(tenant, "clerk", server);
        var otherKey = await RequestRateLimitTests.ApiKeyAsync(tenant, "clerk", server);
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var events = new EventService.EventServiceClient(channel);

        using var open = events.Watch(new WatchRequest(), RequestRateLimitTests.WithKey(key));
        Assert.True(await open.ResponseStream.MoveNext(CancellationToken.None));
        using var another = events.Watch(new WatchRequest(), RequestRateLimitTests.WithKey(otherKey));
        Assert.True(await another.ResponseStream.MoveNext(CancellationToken.None));
        using var second = events.Watch(new WatchRequest(), RequestRateLimitTests.WithKey(key));
        var refusal = await Assert.ThrowsAsync<RpcException>(() => second.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal((StatusCode.ResourceExhausted, "TOO_MANY_CONCURRENT_CALLS"), (refusal.StatusCode, refusal.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason));
    }

    /// <summary>
    /// A REST reconcile whose JSON body is announced but never sent (a raw HTTP/1.1 request, so nothing buffers it): the
    /// call has passed the limiter and waits for its body, holding the tenant's heavy-call permit until disposed.
    /// </summary>
    private async Task<HeldCall> HoldReconcileAsync(string key)
    {
        var endpoint = new Uri(server.Server.Endpoints.Http);
        var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(endpoint.Host, endpoint.Port);
        var stream = client.GetStream();
        var head = $"POST /v1/reconcile HTTP/1.1\r\nHost: {endpoint.Authority}\r\nx-api-key: {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        await stream.FlushAsync();
        return new HeldCall(client);
    }

    private sealed class HeldCall(System.Net.Sockets.TcpClient client) : IDisposable
    {
        /// <summary>The server answered (a held call is never answered): it was refused or failed.</summary>
        public bool Answered => client.Available > 0;

        public void Dispose() => client.Dispose();
    }
}
