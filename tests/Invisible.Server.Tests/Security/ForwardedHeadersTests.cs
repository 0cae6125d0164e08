using Invisible.Server.Tests.Accounts;

namespace Invisible.Server.Tests.Security;

/// <summary>The product behind a reverse proxy on this machine: loopback is the one proxy it trusts.</summary>
public sealed class BehindProxyServer : AccountsServer
{
    protected override IEnumerable<string> Settings => [.. base.Settings, "--ForwardedHeaders:KnownProxies:0=127.0.0.1"];

    /// <summary>A request as the proxy sends it on for a client at <paramref name="clientAddress"/> over TLS.</summary>
    public static void Forward(HttpRequestMessage request, string clientAddress)
    {
        request.Headers.Add("X-Forwarded-For", clientAddress);
        request.Headers.Add("X-Forwarded-Proto", "https");
    }
}

public sealed class ForwardedHeadersFromAnUnknownSourceTests(RunningServer running) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task Forwarded_https_from_a_source_that_is_not_a_configured_proxy_does_not_turn_on_HSTS()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        BehindProxyServer.Forward(request, "203.0.113.7");

        using var response = await running.Http.SendAsync(request);

        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }
}

public sealed class ForwardedHeadersFromAKnownProxyTests(BehindProxyServer server) : IClassFixture<BehindProxyServer>
{
    [Fact]
    public async Task Forwarded_https_from_a_configured_proxy_is_answered_with_HSTS()
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Server.Endpoints.Http) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        BehindProxyServer.Forward(request, "203.0.113.7");

        using var response = await http.SendAsync(request);

        Assert.True(response.Headers.Contains("Strict-Transport-Security"));
    }
}
