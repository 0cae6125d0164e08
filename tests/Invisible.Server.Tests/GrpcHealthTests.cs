using System.Net;
using System.Net.Http.Headers;

namespace Invisible.Server.Tests;

public sealed class GrpcHealthTests(RunningServer running) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task Grpc_health_check_reports_serving_over_h2c_when_the_database_is_ready()
    {
        using var h2c = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(running.Server.Endpoints.Grpc), "/grpc.health.v1.Health/Check"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // One uncompressed frame holding an empty HealthCheckRequest (service "" = the whole server).
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");

        using var response = await h2c.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        // Frame: not compressed, length 2, field 1 (status) = SERVING (1).
        Assert.Equal(new byte[] { 0, 0, 0, 0, 2, 0x08, 0x01 }, body);
    }

    [Fact]
    public async Task Grpc_web_reaches_the_same_health_service_on_the_http_port()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/grpc.health.v1.Health/Check") { Content = new ByteArrayContent([0, 0, 0, 0, 0]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc-web+proto");

        using var response = await running.Http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 2, 0x08, 0x01 }, body[..7]);
        Assert.Equal(0x80, body[7]); // the trailers frame follows in the body
        // The trailers frame is an HTTP/1 header block, where optional white space may follow the colon.
        Assert.Matches(@"(?m)^grpc-status: ?0\r$", System.Text.Encoding.ASCII.GetString(body[12..]));
    }
}
