using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;

namespace Invisible.Rpc.Tests;

/// <summary>
/// What the product's ErrorInterceptor makes of a service's exceptions, as a client reads them with Grpc.StatusProto:
/// on native gRPC and on gRPC-Web alike.
/// </summary>
[Collection(TransportHostCollection.Name)]
public sealed class ErrorTests(TransportHost host)
{
    public static TheoryData<string> Transports => ["native", "web"];

    private GrpcChannel Channel(string transport) => transport == "native" ? host.NativeChannel() : host.WebChannel();

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_DomainException_becomes_its_status_with_ErrorInfo_reason_domain_and_metadata(string transport)
    {
        var client = new ProbeService.ProbeServiceClient(Channel(transport));

        var error = await Assert.ThrowsAsync<RpcException>(() => client.FailAsync(new FailRequest { Kind = "domain" }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("Invoice INV-1 is already matched.", error.Status.Detail);
        var status = error.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal((int)Code.FailedPrecondition, status.Code);
        var info = status.GetDetail<ErrorInfo>();
        Assert.NotNull(info);
        Assert.Equal("INVOICE_ALREADY_MATCHED", info.Reason);
        Assert.Equal("matching.invisible.app", info.Domain);
        Assert.Equal("INV-1", info.Metadata["invoice_id"]);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_validation_DomainException_is_INVALID_ARGUMENT_with_one_BadRequest_violation_per_field(string transport)
    {
        var client = new ProbeService.ProbeServiceClient(Channel(transport));

        var error = await Assert.ThrowsAsync<RpcException>(() => client.FailAsync(new FailRequest { Kind = "validation" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var badRequest = error.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Collection(
            badRequest.FieldViolations,
            first =>
            {
                Assert.Equal("lines[2].quantity", first.Field);
                Assert.Equal("must be positive", first.Description);
                Assert.Equal("MUST_BE_POSITIVE", first.Reason);
            },
            second =>
            {
                Assert.Equal("vendor_id", second.Field);
                Assert.Equal(string.Empty, second.Reason);
            });
        // No reason was given, so there is no ErrorInfo to branch on.
        Assert.Null(error.GetRpcStatus()!.GetDetail<ErrorInfo>());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task An_unexpected_exception_is_INTERNAL_naming_the_request_id_and_never_the_exception_text(string transport)
    {
        var client = new ProbeService.ProbeServiceClient(Channel(transport));
        var requestId = $"err-{transport}-{Guid.NewGuid():N}";

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.FailAsync(new FailRequest { Kind = "unexpected" }, new Metadata { { "x-request-id", requestId } }).ResponseAsync);

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains(requestId, error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(InvalidOperationException), error.Status.Detail, StringComparison.Ordinal);
        // Nor in any trailer (EnableDetailedErrors is off; details are only sent for DomainExceptions).
        Assert.DoesNotContain(error.Trailers, entry => !entry.IsBinary && entry.Value.Contains("hunter2", StringComparison.Ordinal));
        Assert.Null(error.GetRpcStatus());
    }
}
