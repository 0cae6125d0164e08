using Google.Rpc;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.GrpcWireClient;

namespace Invisible.Rpc.Tests;

/// <summary>Exceptions become statuses in one place; the authentication hook runs before handlers.</summary>
[Collection(RpcServerCollection.Name)]
public sealed class ErrorMappingTests(RpcTestServer server)
{
    private Task<GrpcResult> CallAsync(string method, Google.Protobuf.IMessage request, params (string Key, string Value)[] headers) =>
        SendAsync(server.Http2, Request(server.Http2, server.GrpcUri($"/invisible.rpctest.v1.ProbeService/{method}"), GrpcContentType, Frame(request), headers));

    [Fact]
    public async Task Unexpected_exception_is_INTERNAL_with_a_generic_message_that_leaks_nothing()
    {
        var result = await CallAsync("Fail", new FailRequest { Kind = "unexpected" }, ("x-request-id", "req-internal"));

        Assert.Equal(StatusCode.Internal, result.StatusCode);
        Assert.Equal("Internal error (request id req-internal).", result.Message);
        Assert.DoesNotContain("hunter2", string.Join(" ", result.Headers.Values.Concat(result.Trailers.Values)), StringComparison.Ordinal);
        Assert.False(result.Headers.ContainsKey("grpc-status-details-bin"));
    }

    [Fact]
    public async Task Domain_error_carries_its_reason_in_ErrorInfo_in_grpc_status_details_bin()
    {
        var result = await CallAsync("Fail", new FailRequest { Kind = "domain", Message = "Invoice INV-7 is already matched." });

        Assert.Equal(StatusCode.FailedPrecondition, result.StatusCode);
        var details = DetailsOf(result);
        Assert.Equal((int)StatusCode.FailedPrecondition, details.Code);
        Assert.Equal("Invoice INV-7 is already matched.", details.Message);
        var info = Assert.Single(details.Details).Unpack<ErrorInfo>();
        Assert.Equal("INVOICE_ALREADY_MATCHED", info.Reason);
        Assert.Equal("probe.invisible.test", info.Domain);
        Assert.Equal("INV-7", info.Metadata["invoice"]);
    }

    [Fact]
    public async Task Validation_error_is_INVALID_ARGUMENT_with_BadRequest_field_violations()
    {
        var result = await CallAsync("Fail", new FailRequest { Kind = "validation" });

        Assert.Equal(StatusCode.InvalidArgument, result.StatusCode);
        var violation = Assert.Single(Assert.Single(DetailsOf(result).Details).Unpack<BadRequest>().FieldViolations);
        Assert.Equal("lines[2].quantity", violation.Field);
        Assert.Equal("must be positive", violation.Description);
    }

    [Fact]
    public async Task RpcException_thrown_by_a_handler_keeps_its_code_and_message()
    {
        var result = await CallAsync("Fail", new FailRequest { Kind = "5", Message = "Vendor V-9 does not exist." });

        Assert.Equal(StatusCode.NotFound, result.StatusCode);
        Assert.Equal("Vendor V-9 does not exist.", result.Message);
    }

    [Fact]
    public async Task Authentication_hook_sets_the_user_the_handler_sees()
    {
        var alice = await CallAsync("Echo", new EchoRequest(), ("authorization", "Bearer alice"));
        var anonymous = await CallAsync("Echo", new EchoRequest());

        Assert.Equal("alice", Assert.Single(alice.Messages).As(EchoReply.Parser).User);
        Assert.Equal(string.Empty, Assert.Single(anonymous.Messages).As(EchoReply.Parser).User);
    }

    [Fact]
    public async Task Authentication_hook_refusing_credentials_ends_the_call_UNAUTHENTICATED_before_the_handler()
    {
        var result = await CallAsync("Hang", new EchoRequest { Text = "never reached" }, ("authorization", "Bearer invalid"));

        Assert.Equal(StatusCode.Unauthenticated, result.StatusCode);
        Assert.False(server.Recorder.CancellationOf("never reached").IsCompleted);
    }

    private static Google.Rpc.Status DetailsOf(GrpcResult result)
    {
        var encoded = result.Headers["grpc-status-details-bin"];
        return Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(encoded.PadRight(encoded.Length + ((4 - (encoded.Length % 4)) % 4), '=')));
    }
}
