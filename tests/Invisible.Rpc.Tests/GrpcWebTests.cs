using System.Net;
using System.Text;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.GrpcWireClient;

namespace Invisible.Rpc.Tests;

/// <summary>gRPC-Web per PROTOCOL-WEB, binary and base64 text, byte for byte, plus CORS for browsers.</summary>
[Collection(RpcServerCollection.Name)]
public sealed class GrpcWebTests(RpcTestServer server)
{
    private const string CountPath = "/invisible.rpctest.v1.ProbeService/Count";

    /// <summary>CountRequest { count: 1 } framed; also the framed CountReply { number: 1 }.</summary>
    private static readonly byte[] CountOneFrame = [0x00, 0, 0, 0, 2, 0x08, 0x01];

    [Fact]
    public async Task Binary_gRPC_Web_over_HTTP_1_1_puts_the_trailers_in_a_final_body_frame_byte_for_byte()
    {
        using var request = Request(server.Http11, server.HttpUri(CountPath), "application/grpc-web+proto", CountOneFrame);
        using var response = await server.Http11.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("application/grpc-web+proto", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("00000000020801800000000f677270632d7374617475733a300d0a", Convert.ToHexString(body).ToLowerInvariant());
    }

    [Fact]
    public async Task Text_gRPC_Web_decodes_a_base64_request_and_answers_base64_frames_byte_for_byte()
    {
        using var request = Request(server.Http11, server.HttpUri(CountPath), "application/grpc-web-text", Encoding.ASCII.GetBytes("AAAAAAIIAQ=="));
        request.Headers.Accept.ParseAdd("application/grpc-web-text");
        using var response = await server.Http11.SendAsync(request);
        var body = Encoding.ASCII.GetString(await response.Content.ReadAsByteArrayAsync());

        Assert.Equal("application/grpc-web-text+proto", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("AAAAAAIIAQ==gAAAAA9ncnBjLXN0YXR1czowDQo=", body);
    }

    [Fact]
    public async Task Text_gRPC_Web_request_sent_as_separately_padded_base64_chunks_is_accepted()
    {
        var chunked = Convert.ToBase64String(CountOneFrame[..4]) + Convert.ToBase64String(CountOneFrame[4..]);

        var result = await SendAsync(server.Http11, Request(server.Http11, server.HttpUri(CountPath), "application/grpc-web-text", Encoding.ASCII.GetBytes(chunked)));

        Assert.Equal("AAAAAA==AggB", chunked);
        Assert.Equal(StatusCode.OK, result.StatusCode);
        Assert.Equal(1, Assert.Single(result.Messages).As(CountReply.Parser).Number);
    }

    [Fact]
    public async Task Text_gRPC_Web_body_that_is_not_base64_is_INTERNAL()
    {
        var result = await SendAsync(server.Http11, Request(server.Http11, server.HttpUri(CountPath), "application/grpc-web-text", Encoding.ASCII.GetBytes("AAAA*AAA")));

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("base64", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task gRPC_Web_also_works_over_HTTP_2()
    {
        var result = await SendAsync(server.Http2, Request(server.Http2, server.GrpcUri(CountPath), GrpcWebContentType, Frame(new CountRequest { Count = 2 })));

        Assert.Equal(HttpVersion.Version20, result.HttpVersion);
        Assert.Equal(StatusCode.OK, result.StatusCode);
        Assert.Equal([1, 2], result.Messages.Select(m => m.As(CountReply.Parser).Number));
        Assert.Equal(["grpc-status"], result.Trailers.Keys);
    }

    [Fact]
    public async Task Early_error_on_gRPC_Web_is_trailers_only_in_the_headers()
    {
        var result = await SendAsync(server.Http11, Request(server.Http11, server.HttpUri("/no.Such/Thing"), GrpcWebContentType, Frame(new CountRequest())));

        Assert.True(result.TrailersOnly);
        Assert.Equal(StatusCode.Unimplemented, result.StatusCode);
    }

    [Fact]
    public async Task Error_after_messages_arrives_in_the_trailers_frame_percent_encoded()
    {
        var result = await SendAsync(server.Http11, Request(server.Http11, server.HttpUri("/invisible.rpctest.v1.ProbeService/Fail"), GrpcWebContentType, Frame(new FailRequest { Kind = "10", Message = "conflict: ☺" })));

        Assert.Equal(StatusCode.Aborted, result.StatusCode);
        Assert.Equal("conflict: ☺", result.Message);
    }

    [Fact]
    public async Task Preflight_from_an_allowed_origin_permits_POST_with_the_requested_headers()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, server.HttpUri(CountPath));
        preflight.Headers.Add("Origin", RpcTestServer.AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-grpc-web,authorization");

        using var response = await server.Http11.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(RpcTestServer.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Equal("content-type,x-grpc-web,authorization", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
    }

    [Fact]
    public async Task Preflight_from_another_origin_gets_no_CORS_permission()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, server.HttpUri(CountPath));
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");

        using var response = await server.Http11.SendAsync(preflight);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Response_to_an_allowed_origin_exposes_grpc_status_grpc_message_and_custom_metadata()
    {
        var result = await SendAsync(server.Http11, Request(server.Http11, server.HttpUri("/invisible.rpctest.v1.ProbeService/Echo"), GrpcWebContentType, Frame(new EchoRequest()), ("Origin", RpcTestServer.AllowedOrigin), ("x-echo-tenant", "t-1")));

        Assert.Equal(RpcTestServer.AllowedOrigin, result.Headers["Access-Control-Allow-Origin"]);
        var exposed = result.Headers["Access-Control-Expose-Headers"].Split(',', StringSplitOptions.TrimEntries);
        Assert.Contains("grpc-status", exposed);
        Assert.Contains("grpc-message", exposed);
        Assert.Contains("x-echo-tenant", exposed);
    }
}
