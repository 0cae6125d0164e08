using System.Net;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client.Web;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.RawGrpc;

namespace Invisible.Rpc.Tests;

/// <summary>gRPC-Web (PROTOCOL-WEB) as browsers speak it to the main port: exact bytes, and a real client in both modes.</summary>
[Collection(TransportHostCollection.Name)]
public sealed class GrpcWebTests(TransportHost host)
{
    private const string CountPath = "/invisible.grpctest.v1.ProbeService/Count";

    [Fact]
    public async Task Text_gRPC_Web_decodes_a_base64_request_and_answers_base64_frames_byte_for_byte()
    {
        // "AAAAAAIIAQ==" is the frame 00 00000002 0801: CountRequest { count: 1 }, which is also the bytes of CountReply { number: 1 }.
        using var request = Request(host.HttpUri(CountPath), "application/grpc-web-text", Encoding.ASCII.GetBytes("AAAAAAIIAQ=="));
        request.Headers.Accept.ParseAdd("application/grpc-web-text");

        using var response = await host.Http11.SendAsync(request);
        var body = Encoding.ASCII.GetString(await response.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc-web-text", response.Content.Headers.ContentType?.MediaType);
        // The reply frame, then the trailers frame 80 00000010 "grpc-status: 0\r\n", each base64 on its own (padded where needed).
        Assert.Equal(ExpectedTextBody, body);
    }

    private const string ExpectedTextBody = "AAAAAAIIAQ==" + "gAAAABBncnBjLXN0YXR1czogMA0K";

    [Fact]
    public async Task Binary_gRPC_Web_over_HTTP_1_1_puts_the_trailers_in_a_final_body_frame_byte_for_byte()
    {
        using var request = Request(host.HttpUri(CountPath), "application/grpc-web+proto", Frame(new CountRequest { Count = 1 }));

        using var response = await host.Http11.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpVersion.Version11, response.Version);
        // Grpc.AspNetCore answers +proto requests as plain application/grpc-web, which PROTOCOL-WEB treats as the same.
        Assert.Equal("application/grpc-web", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ExpectedBinaryBody, Convert.ToHexString(body).ToLowerInvariant());
    }

    /// <summary>The reply frame 00 00000002 0801, then the trailers frame 80 00000010 "grpc-status: 0\r\n".</summary>
    private const string ExpectedBinaryBody = "00000000020801" + "8000000010677270632d7374617475733a20300d0a";

    [Theory]
    [InlineData(GrpcWebMode.GrpcWeb)]
    [InlineData(GrpcWebMode.GrpcWebText)]
    public async Task Grpc_Net_Client_Web_streams_over_HTTP_1_1_in_both_modes(GrpcWebMode mode)
    {
        var client = new ProbeService.ProbeServiceClient(host.WebChannel(mode));

        using var call = client.Count(new CountRequest { Count = 3 });
        var numbers = await call.ResponseStream.ReadAllAsync().Select(reply => reply.Number).ToListAsync();

        Assert.Equal([1, 2, 3], numbers);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task An_unknown_method_on_gRPC_Web_is_UNIMPLEMENTED_in_the_headers()
    {
        var result = await SendAsync(host.Http11, Request(host.HttpUri("/invisible.grpctest.v1.ProbeService/Nope"), "application/grpc-web+proto", Frame(new CountRequest())));

        Assert.Equal((int)StatusCode.Unimplemented, result.Status);
        Assert.Equal(((int)StatusCode.Unimplemented).ToString(), result.Headers["grpc-status"]);
    }
}
