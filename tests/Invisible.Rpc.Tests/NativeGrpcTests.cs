using System.Diagnostics;
using System.Net;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.GrpcWireClient;

namespace Invisible.Rpc.Tests;

/// <summary>Native gRPC over h2c, checked on the wire against the gRPC over HTTP/2 spec.</summary>
[Collection(RpcServerCollection.Name)]
public sealed class NativeGrpcTests(RpcTestServer server)
{
    private const string EchoPath = "/invisible.rpctest.v1.ProbeService/Echo";

    private Task<GrpcResult> CallAsync(string path, byte[] body, params (string Key, string Value)[] headers) =>
        SendAsync(server.Http2, Request(server.Http2, server.GrpcUri(path), GrpcContentType, body, headers));

    [Fact]
    public async Task Unary_call_returns_one_message_then_status_OK_in_the_trailers()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest { Text = "hello" }));

        Assert.Equal(HttpVersion.Version20, result.HttpVersion);
        Assert.Equal("application/grpc", result.Headers["Content-Type"]);
        Assert.False(result.TrailersOnly);
        Assert.Equal(StatusCode.OK, result.StatusCode);
        var reply = Assert.Single(result.Messages).As(EchoReply.Parser);
        Assert.Equal("hello", reply.Text);
        Assert.StartsWith("ipv4:127.0.0.1:", reply.Peer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_service_is_UNIMPLEMENTED_as_a_trailers_only_response()
    {
        var result = await CallAsync("/no.such.Service/Call", Frame(new EchoRequest()));

        Assert.Equal(StatusCode.Unimplemented, result.StatusCode);
        Assert.True(result.TrailersOnly);
        Assert.Empty(result.RawBody);
        Assert.Contains("no.such.Service", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_method_of_a_served_service_is_UNIMPLEMENTED()
    {
        var result = await CallAsync("/invisible.rpctest.v1.ProbeService/Nope", Frame(new EchoRequest()));

        Assert.Equal(StatusCode.Unimplemented, result.StatusCode);
        Assert.Contains("Nope", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_method_left_unimplemented_answers_UNIMPLEMENTED()
    {
        var result = await CallAsync("/invisible.rpctest.v1.ProbeService/Upload", Frame(new EchoRequest()));

        Assert.Equal(StatusCode.Unimplemented, result.StatusCode);
    }

    [Fact]
    public async Task Unary_call_without_a_request_message_is_INTERNAL_not_a_hang()
    {
        var result = await CallAsync(EchoPath, []);

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("received none", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_call_with_two_request_messages_is_INTERNAL()
    {
        var result = await CallAsync(EchoPath, [.. Frame(new EchoRequest { Text = "a" }), .. Frame(new EchoRequest { Text = "b" })]);

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("more than one", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_frame_is_INTERNAL_and_the_server_keeps_serving()
    {
        var whole = Frame(new EchoRequest { Text = "truncated" });

        var truncated = await CallAsync(EchoPath, whole[..^3]);
        var headerOnly = await CallAsync(EchoPath, whole[..3]);
        var next = await CallAsync(EchoPath, whole);

        Assert.Equal(StatusCode.Internal, truncated.StatusCode);
        Assert.Contains("Truncated", truncated.Message, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Internal, headerOnly.StatusCode);
        Assert.Equal(StatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Garbage_payload_is_INTERNAL_naming_the_message_type()
    {
        var result = await CallAsync(EchoPath, Frame(0, [0xff, 0xff, 0xff, 0xff]));

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("EchoRequest", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compressed_flag_with_identity_encoding_is_INTERNAL()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest { Text = "x" }, gzip: true));

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("compressed", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_request_encoding_is_UNIMPLEMENTED_and_lists_the_supported_ones()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest()), ("grpc-encoding", "snappy"));

        Assert.Equal(StatusCode.Unimplemented, result.StatusCode);
        Assert.Equal("gzip, identity", result.Headers["grpc-accept-encoding"]);
    }

    [Fact]
    public async Task Gzip_request_is_decompressed_for_the_handler()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest { Text = "zipped" }, gzip: true), ("grpc-encoding", "gzip"));

        Assert.Equal(StatusCode.OK, result.StatusCode);
        var reply = Assert.Single(result.Messages).As(EchoReply.Parser);
        Assert.Equal("zipped", reply.Text);
        Assert.True(reply.RequestCompressed);
    }

    [Fact]
    public async Task Response_is_gzip_compressed_when_the_handler_asks_and_the_client_accepts_gzip()
    {
        var accepted = await CallAsync(EchoPath, Frame(new EchoRequest { Text = "compress me", ReplyPadding = 2000 }), ("grpc-accept-encoding", "gzip"));
        var notAccepted = await CallAsync(EchoPath, Frame(new EchoRequest { Text = "compress me", ReplyPadding = 2000 }));

        Assert.Equal("gzip", accepted.Headers["grpc-encoding"]);
        Assert.Equal(1, Assert.Single(accepted.Messages).Flag);
        Assert.Equal(2000, accepted.Messages[0].As(EchoReply.Parser).Padding.Length);
        Assert.False(notAccepted.Headers.ContainsKey("grpc-encoding"));
        Assert.Equal(0, Assert.Single(notAccepted.Messages).Flag);
    }

    [Fact]
    public async Task Request_larger_than_the_receive_limit_is_RESOURCE_EXHAUSTED()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest { Text = new string('x', RpcTestServer.MaxMessageSize + 1) }));

        Assert.Equal(StatusCode.ResourceExhausted, result.StatusCode);
    }

    [Fact]
    public async Task Compressed_request_inflating_past_the_receive_limit_is_RESOURCE_EXHAUSTED()
    {
        var bomb = Frame(new EchoRequest { Text = new string('x', RpcTestServer.MaxMessageSize * 4) }, gzip: true);

        var result = await CallAsync(EchoPath, bomb, ("grpc-encoding", "gzip"));

        Assert.True(bomb.Length < RpcTestServer.MaxMessageSize);
        Assert.Equal(StatusCode.ResourceExhausted, result.StatusCode);
    }

    [Fact]
    public async Task Response_larger_than_the_send_limit_is_RESOURCE_EXHAUSTED()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest { ReplyPadding = RpcTestServer.MaxMessageSize + 1 }));

        Assert.Equal(StatusCode.ResourceExhausted, result.StatusCode);
        Assert.Empty(result.Messages);
    }

    [Fact]
    public async Task Grpc_timeout_becomes_a_deadline_that_cancels_the_handler_and_ends_DEADLINE_EXCEEDED()
    {
        var started = Stopwatch.StartNew();
        var result = await CallAsync("/invisible.rpctest.v1.ProbeService/Hang", Frame(new EchoRequest { Text = "deadline" }), ("grpc-timeout", "200m"));

        Assert.Equal(StatusCode.DeadlineExceeded, result.StatusCode);
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        await server.Recorder.CancellationOf("deadline").WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Deadline_is_enforced_even_when_the_handler_ignores_its_token()
    {
        var started = Stopwatch.StartNew();
        var result = await CallAsync("/invisible.rpctest.v1.ProbeService/Stall", Frame(new CountRequest { Count = 1, IntervalMs = 3000 }), ("grpc-timeout", "200m"));

        Assert.Equal(StatusCode.DeadlineExceeded, result.StatusCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"the status came after {started.Elapsed}, when the handler finished, not at the deadline");
        Assert.Empty(result.Messages);
    }

    [Fact]
    public async Task Malformed_grpc_timeout_is_INTERNAL()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest()), ("grpc-timeout", "soon"));

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("grpc-timeout", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_cancellation_cancels_the_handlers_token()
    {
        using var cancel = new CancellationTokenSource();
        var call = SendAsync(server.Http2, Request(server.Http2, server.GrpcUri("/invisible.rpctest.v1.ProbeService/Hang"), GrpcContentType, Frame(new EchoRequest { Text = "client-cancel" })), cancel.Token);
        await Task.Delay(200);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await server.Recorder.CancellationOf("client-cancel").WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Text_and_binary_metadata_reach_the_handler_and_come_back_in_headers_and_trailers()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest()), ("x-echo-text", "plain value"), ("x-echo-data-bin", Convert.ToBase64String([0, 1, 254, 255])));

        Assert.Equal("plain value", result.Headers["x-echo-text"]);
        Assert.Equal([0, 1, 254, 255], Base64Unpadded(result.Headers["x-echo-data-bin"]));
        Assert.Equal([0, 1, 254, 255], Base64Unpadded(result.Trailers["x-trailer-data-bin"]));
    }

    [Fact]
    public async Task Binary_metadata_that_is_not_base64_is_INTERNAL()
    {
        var result = await CallAsync(EchoPath, Frame(new EchoRequest()), ("x-echo-data-bin", "not*base64"));

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("x-echo-data-bin", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_message_is_percent_encoded_on_the_wire_and_round_trips()
    {
        const string message = "50% off\r\nnaïve ☺ 😈";
        using var request = Request(server.Http2, server.GrpcUri("/invisible.rpctest.v1.ProbeService/Fail"), GrpcContentType, Frame(new FailRequest { Kind = "9", Message = message }));
        using var response = await server.Http2.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        var raw = response.Headers.GetValues("grpc-message").Single();
        Assert.Equal("50%25 off%0D%0Ana%C3%AFve %E2%98%BA %F0%9F%98%88", raw);
        Assert.Equal(message, Uri.UnescapeDataString(raw));
    }

    [Fact]
    public async Task Request_id_from_the_client_is_echoed_and_one_is_made_when_absent()
    {
        var given = await CallAsync(EchoPath, Frame(new EchoRequest()), ("x-request-id", "req-42"));
        var made = await CallAsync(EchoPath, Frame(new EchoRequest()));
        var madeAgain = await CallAsync(EchoPath, Frame(new EchoRequest()));
        var refused = await CallAsync(EchoPath, Frame(new EchoRequest()), ("x-request-id", "not an/acceptable id"));

        Assert.Equal("req-42", given.Headers["x-request-id"]);
        Assert.Matches("^[0-9a-f]{32}$", made.Headers["x-request-id"]);
        Assert.NotEqual(made.Headers["x-request-id"], madeAgain.Headers["x-request-id"]);
        Assert.Matches("^[0-9a-f]{32}$", refused.Headers["x-request-id"]);
    }

    [Fact]
    public async Task Server_stream_of_3_messages_100_ms_apart_arrives_incrementally()
    {
        using var request = Request(server.Http2, server.GrpcUri("/invisible.rpctest.v1.ProbeService/Count"), GrpcContentType, Frame(new CountRequest { Count = 3, IntervalMs = 100 }));
        using var response = await server.Http2.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var clock = Stopwatch.StartNew();
        var arrivals = new List<TimeSpan>();
        var frame = new byte[5 + CountReplySize];
        for (var i = 0; i < 3; i++)
        {
            await body.ReadExactlyAsync(frame.AsMemory(0, 5));
            await body.ReadExactlyAsync(frame.AsMemory(5, frame[4]));
            arrivals.Add(clock.Elapsed);
        }

        Assert.True(arrivals[1] - arrivals[0] > TimeSpan.FromMilliseconds(60), $"arrivals {string.Join(", ", arrivals)}");
        Assert.True(arrivals[2] - arrivals[1] > TimeSpan.FromMilliseconds(60), $"arrivals {string.Join(", ", arrivals)}");
    }

    [Fact]
    public async Task Server_stream_with_no_messages_is_a_trailers_only_OK()
    {
        var result = await CallAsync("/invisible.rpctest.v1.ProbeService/Count", Frame(new CountRequest { Count = 0 }));

        Assert.Equal(StatusCode.OK, result.StatusCode);
        Assert.True(result.TrailersOnly);
    }

    [Fact]
    public async Task Native_gRPC_over_HTTP_1_1_is_refused_with_a_status_naming_the_problem()
    {
        var result = await SendAsync(server.Http11, Request(server.Http11, server.HttpUri(EchoPath), GrpcContentType, Frame(new EchoRequest())));

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Contains("HTTP/2", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_that_are_not_gRPC_pass_through_to_the_rest_of_the_application()
    {
        var page = await server.Http11.GetStringAsync(server.HttpUri("/invoices/42"));

        Assert.Equal(RpcTestServer.StaticPage, page);
    }

    private static int CountReplySize => new CountReply { Number = 3 }.CalculateSize();

    private static byte[] Base64Unpadded(string value) => Convert.FromBase64String(value.PadRight(value.Length + ((4 - (value.Length % 4)) % 4), '='));
}
