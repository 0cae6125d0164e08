using System.Net;
using Grpc.Core;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;

namespace Invisible.Rpc.Tests;

/// <summary>CORS for the configured browser origins (Rpc:CorsAllowedOrigins) and the request id every response carries.</summary>
[Collection(TransportHostCollection.Name)]
public sealed class BrowserAndRequestIdTests(TransportHost host)
{
    private const string EchoPath = "/invisible.grpctest.v1.ProbeService/Echo";

    [Fact]
    public async Task Preflight_from_the_configured_origin_permits_POST_with_the_requested_headers()
    {
        using var preflight = Preflight(TransportHost.AllowedOrigin);

        using var response = await host.Http11.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(TransportHost.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Equal("content-type,x-grpc-web,authorization", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("https://app.invisible.test.evil.example")]
    [InlineData("http://app.invisible.test")]
    public async Task Preflight_from_any_other_origin_gets_no_CORS_permission(string origin)
    {
        using var preflight = Preflight(origin);

        using var response = await host.Http11.SendAsync(preflight);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_call_from_the_configured_origin_exposes_the_gRPC_status_headers_to_the_script()
    {
        using var request = RawGrpc.Request(host.HttpUri(EchoPath), "application/grpc-web+proto", RawGrpc.Frame(new EchoRequest()), ("Origin", TransportHost.AllowedOrigin));

        using var response = await host.Http11.SendAsync(request);

        Assert.Equal(TransportHost.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var exposed = response.Headers.GetValues("Access-Control-Expose-Headers").Single().Split(',', StringSplitOptions.TrimEntries);
        Assert.Superset(new HashSet<string> { "grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id" }, exposed.ToHashSet());
    }

    [Fact]
    public async Task The_clients_x_request_id_is_echoed_in_the_response_headers()
    {
        var client = new ProbeService.ProbeServiceClient(host.NativeChannel());

        using var call = client.EchoAsync(new EchoRequest(), new Metadata { { "x-request-id", "req-7f3a.b_2" } });
        var headers = await call.ResponseHeadersAsync;
        await call;

        Assert.Equal("req-7f3a.b_2", headers.GetValue("x-request-id"));
    }

    [Fact]
    public async Task Without_an_acceptable_x_request_id_the_server_assigns_one()
    {
        var client = new ProbeService.ProbeServiceClient(host.WebChannel());

        using var call = client.EchoAsync(new EchoRequest(), new Metadata { { "x-request-id", "no spaces; or semicolons" } });
        var headers = await call.ResponseHeadersAsync;
        await call;

        var assigned = headers.GetValue("x-request-id");
        Assert.False(string.IsNullOrEmpty(assigned));
        Assert.NotEqual("no spaces; or semicolons", assigned);
    }

    private HttpRequestMessage Preflight(string origin)
    {
        var preflight = new HttpRequestMessage(HttpMethod.Options, host.HttpUri(EchoPath));
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-grpc-web,authorization");
        return preflight;
    }
}
