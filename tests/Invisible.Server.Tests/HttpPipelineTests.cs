using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests;

public sealed class HttpPipelineTests(RunningServer running) : IClassFixture<RunningServer>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/invoices/INV-1")]
    [InlineData("/no-such-file.js")]
    public async Task Every_response_carries_the_security_headers(string path)
    {
        using var response = await running.Http.GetAsync(path);

        Assert.Equal(Http.SecurityHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("strict-origin-when-cross-origin", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("camera=(), microphone=(), geolocation=(), payment=()", response.Headers.GetValues("Permissions-Policy").Single());
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), "HSTS only makes sense over TLS");
    }

    [Fact]
    public void In_embedded_mode_the_dapr_app_callbacks_do_not_exist()
    {
        var routes = running.Server.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Select(endpoint => endpoint.RoutePattern.RawText ?? "");

        Assert.DoesNotContain(routes, route => route.TrimStart('/').StartsWith("dapr/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Healthz_says_the_process_is_live()
    {
        using var response = await running.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("live", body.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Deep_links_are_answered_with_the_web_app_and_revalidated()
    {
        using var response = await running.Http.GetAsync("/exceptions/42");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<app-root>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Fingerprinted_assets_are_cached_for_a_year_and_other_files_are_revalidated()
    {
        using var fingerprinted = await running.Http.GetAsync("/main-4F2A9CXB.js");
        using var favicon = await running.Http.GetAsync("/favicon.svg");

        Assert.Equal(HttpStatusCode.OK, fingerprinted.StatusCode);
        Assert.Equal(TimeSpan.FromDays(365), fingerprinted.Headers.CacheControl?.MaxAge);
        Assert.Equal(HttpStatusCode.OK, favicon.StatusCode);
        Assert.Equal("no-cache", favicon.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task Scripts_travel_compressed_when_the_browser_accepts_it(string encoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/main-4F2A9CXB.js");
        request.Headers.AcceptEncoding.ParseAdd(encoding);

        using var response = await running.Http.SendAsync(request);

        Assert.Equal([encoding], response.Content.Headers.ContentEncoding);
        Assert.True(response.Content.Headers.ContentLength is null || response.Content.Headers.ContentLength < 1000);
    }

    [Fact]
    public async Task Endpoints_file_names_the_listeners_and_the_grpc_one_speaks_http2_cleartext()
    {
        var endpoints = await Hosting.ServerEndpoints.ReadAsync(running.DataDirectory, CancellationToken.None);

        Assert.Equal(running.Server.Endpoints, endpoints);
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await h2c.GetAsync(new Uri(new Uri(endpoints!.Grpc), "/healthz"));
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
