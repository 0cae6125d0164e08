using Google.Protobuf.Reflection;
using Invisible.Rpc.Client;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;

namespace Invisible.Rpc.Tests.Client;

/// <summary><see cref="RpcClient"/> against the real protocol layer on Kestrel: gRPC-Web on the HTTP/1.1 port, native gRPC on the h2c port.</summary>
[Collection(RpcServerCollection.Name)]
public sealed class RpcClientTests(RpcTestServer server)
{
    private static readonly ServiceDescriptor Probe = ProbeReflection.Descriptor.Services[0];

    public static TheoryData<RpcClientProtocol> Protocols => [RpcClientProtocol.GrpcWeb, RpcClientProtocol.Grpc];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_unary_call_sends_metadata_and_reads_compressed_and_uncompressed_replies(RpcClientProtocol protocol)
    {
        using var client = Client(protocol, headers: new Dictionary<string, string> { ["authorization"] = "Bearer ana" });

        var plain = await client.UnaryAsync<EchoReply>(Probe.FindMethodByName("Echo"), new EchoRequest { Text = "hello" });
        var compressed = await client.UnaryAsync<EchoReply>(Probe.FindMethodByName("Echo"), new EchoRequest { Text = "compress me", ReplyPadding = 40_000 });

        Assert.Equal(("hello", "ana", false), (plain.Text, plain.User, plain.RequestCompressed));
        Assert.Equal(("compress me", 40_000), (compressed.Text, compressed.Padding.Length));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Requests_can_be_sent_gzip_compressed(RpcClientProtocol protocol)
    {
        using var client = Client(protocol, compress: true);

        var reply = await client.UnaryAsync<EchoReply>(Probe.FindMethodByName("Echo"), new EchoRequest { Text = new string('x', 5_000) });

        Assert.True(reply.RequestCompressed);
        Assert.Equal(5_000, reply.Text.Length);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_server_stream_yields_every_message_in_order(RpcClientProtocol protocol)
    {
        using var client = Client(protocol);

        var numbers = new List<int>();
        await foreach (var reply in client.ServerStreamingAsync<CountReply>(Probe.FindMethodByName("Count"), new CountRequest { Count = 5, IntervalMs = 10 }))
        {
            numbers.Add(reply.Number);
        }

        Assert.Equal([1, 2, 3, 4, 5], numbers);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Errors_become_RpcExceptions_with_the_ErrorInfo_and_BadRequest_the_server_sent(RpcClientProtocol protocol)
    {
        using var client = Client(protocol);
        var fail = Probe.FindMethodByName("Fail");

        var domain = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(fail, new FailRequest { Kind = "domain", Message = "Invoice INV-7 is already matched; ü" }));
        var validation = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(fail, new FailRequest { Kind = "validation" }));
        var plain = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(fail, new FailRequest { Kind = "5", Message = "no such thing" }));
        var unexpected = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(fail, new FailRequest { Kind = "unexpected" }));

        Assert.Equal((StatusCode.FailedPrecondition, "Invoice INV-7 is already matched; ü"), (domain.StatusCode, domain.Message));
        Assert.Equal(("INVOICE_ALREADY_MATCHED", "probe.invisible.test", "INV-7"), (domain.ErrorInfo!.Reason, domain.ErrorInfo.Domain, domain.ErrorInfo.Metadata["invoice"]));
        Assert.Equal(StatusCode.InvalidArgument, validation.StatusCode);
        var violation = Assert.Single(validation.BadRequest!.FieldViolations);
        Assert.Equal(("lines[2].quantity", "must be positive"), (violation.Field, violation.Description));
        Assert.Equal((StatusCode.NotFound, "no such thing", null), (plain.StatusCode, plain.Message, plain.ErrorInfo));
        Assert.Equal(StatusCode.Internal, unexpected.StatusCode);
        Assert.DoesNotContain("hunter2", unexpected.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Refused_credentials_are_UNAUTHENTICATED(RpcClientProtocol protocol)
    {
        using var client = Client(protocol, headers: new Dictionary<string, string> { ["authorization"] = "Basic nope" });

        var refused = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(Probe.FindMethodByName("Echo"), new EchoRequest()));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_call_past_its_deadline_is_DEADLINE_EXCEEDED_and_the_handler_is_cancelled(RpcClientProtocol protocol)
    {
        using var client = Client(protocol);
        var name = $"client-deadline-{protocol}-{Guid.NewGuid():N}";

        // Long enough for the handler to have started on a loaded machine, so that its cancellation can be observed.
        var late = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync<EchoReply>(Probe.FindMethodByName("Hang"), new EchoRequest { Text = name }, TimeSpan.FromSeconds(2)));

        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
        await server.Recorder.CancellationOf(name).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_caller_cancelling_gets_an_OperationCanceledException_not_a_status()
    {
        using var client = Client(RpcClientProtocol.Grpc);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.UnaryAsync<EchoReply>(Probe.FindMethodByName("Hang"), new EchoRequest { Text = "cancelled by caller" }, cancellationToken: cancellation.Token));
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_UNAVAILABLE_naming_the_address()
    {
        using var nobody = new RpcClient(new RpcClientOptions { Address = new Uri("http://127.0.0.1:1") });

        var unreachable = await Assert.ThrowsAsync<RpcException>(() => nobody.UnaryAsync<EchoReply>(Probe.FindMethodByName("Echo"), new EchoRequest()));

        Assert.Equal(StatusCode.Unavailable, unreachable.StatusCode);
        Assert.Contains("127.0.0.1:1", unreachable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_method_of_another_shape_is_refused_before_anything_is_sent()
    {
        using var client = Client(RpcClientProtocol.Grpc);

        Assert.Throws<ArgumentException>(() => client.ServerStreamingAsync<EchoReply>(Probe.FindMethodByName("Upload"), new EchoRequest()).GetAsyncEnumerator().MoveNextAsync().AsTask().GetAwaiter().GetResult());
        Assert.Throws<ArgumentException>(() => client.ServerStreamingAsync<CountReply>(Probe.FindMethodByName("Echo"), new EchoRequest()).GetAsyncEnumerator().MoveNextAsync().AsTask().GetAwaiter().GetResult());
    }

    private RpcClient Client(RpcClientProtocol protocol, bool compress = false, IReadOnlyDictionary<string, string>? headers = null) => new(new RpcClientOptions
    {
        Address = protocol == RpcClientProtocol.Grpc ? server.GrpcUri("/") : server.HttpUri("/"),
        Protocol = protocol,
        CompressRequests = compress,
        Headers = headers ?? new Dictionary<string, string>(),
        DefaultDeadline = TimeSpan.FromSeconds(10),
    });
}
