using System.IO.Compression;
using Grpc.Core;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.RawGrpc;

namespace Invisible.Rpc.Tests;

/// <summary>Message size limits, gzip both ways and deadlines, as Rpc options configure them.</summary>
[Collection(TransportHostCollection.Name)]
public sealed class LimitsTests(TransportHost host)
{
    private const string EchoPath = "/invisible.grpctest.v1.ProbeService/Echo";

    [Fact]
    public async Task A_request_message_over_MaxReceiveMessageSize_is_RESOURCE_EXHAUSTED()
    {
        var client = new ProbeService.ProbeServiceClient(host.NativeChannel());

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.EchoAsync(new EchoRequest { Text = new string('x', TransportHost.MaxMessageSize + 1) }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task A_response_message_over_MaxSendMessageSize_is_RESOURCE_EXHAUSTED_instead_of_being_sent()
    {
        var client = new ProbeService.ProbeServiceClient(host.WebChannel());

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.EchoAsync(new EchoRequest { ReplyPadding = TransportHost.MaxMessageSize + 1 }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task A_message_just_under_the_limits_goes_through_both_ways()
    {
        var client = new ProbeService.ProbeServiceClient(host.NativeChannel());

        var large = await client.EchoAsync(new EchoRequest { Text = new string('x', TransportHost.MaxMessageSize - 100) });
        var padded = await client.EchoAsync(new EchoRequest { ReplyPadding = TransportHost.MaxMessageSize - 100 });

        Assert.Equal(TransportHost.MaxMessageSize - 100, large.Text.Length);
        Assert.Equal(TransportHost.MaxMessageSize - 100, padded.Padding.Length);
    }

    [Fact]
    public async Task A_gzip_compressed_request_is_decompressed_for_the_service()
    {
        var client = new ProbeService.ProbeServiceClient(host.NativeChannel());
        // Grpc.Net.Client compresses the request message when the call asks for it with this header (which it does not send).
        var compress = new Metadata { { "grpc-internal-encoding-request", "gzip" } };

        var reply = await client.EchoAsync(new EchoRequest { Text = new string('z', 10_000) }, compress);

        Assert.Equal("gzip", reply.RequestEncoding);
        Assert.Equal(new string('z', 10_000), reply.Text);
    }

    [Fact]
    public async Task Responses_are_gzip_compressed_on_the_wire_for_a_client_that_accepts_gzip()
    {
        // Raw bytes, to see the compressed flag and the compressed payload that a client library would hide.
        var result = await SendAsync(host.Http2, Request(
            host.GrpcUri(EchoPath), "application/grpc", Frame(new EchoRequest { Text = "squeeze", ReplyPadding = 10_000 }), ("grpc-accept-encoding", "gzip")));

        Assert.Equal(0, result.Status);
        Assert.Equal("gzip", result.Headers["grpc-encoding"]);
        var (flag, payload) = Assert.Single(result.Messages);
        Assert.Equal(1, flag);
        Assert.True(payload.Length < 1_000, $"{payload.Length} bytes: 10 kB of zeros should compress well");
        using var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
        var reply = EchoReply.Parser.ParseFrom(gzip);
        Assert.Equal("squeeze", reply.Text);
        Assert.Equal(10_000, reply.Padding.Length);
    }

    [Fact]
    public async Task Responses_stay_uncompressed_for_a_client_that_does_not_accept_gzip()
    {
        var result = await SendAsync(host.Http2, Request(host.GrpcUri(EchoPath), "application/grpc", Frame(new EchoRequest { Text = "plain", ReplyPadding = 10_000 })));

        Assert.Equal(0, result.Status);
        Assert.False(result.Headers.ContainsKey("grpc-encoding"));
        Assert.Equal(0, Assert.Single(result.Messages).Flag);
    }

    [Fact]
    public async Task A_deadline_ends_the_call_as_DEADLINE_EXCEEDED_and_cancels_the_service()
    {
        host.Recorder.ResetHang();
        var client = new ProbeService.ProbeServiceClient(host.NativeChannel());

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.HangAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddMilliseconds(300)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // The server's own deadline (from grpc-timeout) fires the service's CancellationToken.
        await host.Recorder.HangCancelled.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_server_enforces_grpc_timeout_even_when_the_client_waits_forever()
    {
        // A client without its own deadline: only the server's reading of grpc-timeout can end the call.
        var result = await SendAsync(
            host.Http2, Request(host.GrpcUri("/invisible.grpctest.v1.ProbeService/Hang"), "application/grpc", Frame(new EchoRequest()), ("grpc-timeout", "200m")),
            new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        Assert.Equal((int)StatusCode.DeadlineExceeded, result.Status);
    }
}
