using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Audit.V1;
using Invisible.Contracts.Imports.V1;
using Invisible.Rpc;
using Invisible.Rpc.Client;

namespace Invisible.Server.Tests.Accounts;

/// <summary>
/// <see cref="RpcClient"/> as a machine import uses it: against the running product with an API key, on the main port
/// (gRPC-Web) and the h2c port (native gRPC), with the product's real errors and a server stream that ends in an error.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class RpcClientWithApiKeyTests(AccountsServer server)
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Imports = ImportsReflection.Descriptor.Services[0];

    public static TheoryData<RpcClientProtocol> Protocols => [RpcClientProtocol.GrpcWeb, RpcClientProtocol.Grpc];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_clerk_key_uploads_a_file_reads_its_rejection_and_gets_the_products_error_details(RpcClientProtocol protocol)
    {
        var tenant = await server.NewTenantAsync();
        var adminToken = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var key = (await tenant.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "client test", Role = Identity.Roles.Clerk }, adminToken))
            .As<CreateApiKeyResponse>().Key;
        using var client = Client(protocol, key);
        using var stranger = Client(protocol, "ink_not-a-key");
        var file = Encoding.UTF8.GetBytes("vendor_code,name\nV1,Acme\n,Nameless\n");

        var upload = await client.UnaryAsync<StartUploadResponse>(Imports.FindMethodByName("StartUpload"),
            new StartUploadRequest { Kind = DocumentKind.Vendors, FileName = "vendors.csv", Size = file.Length });
        await client.UnaryAsync<UploadChunkResponse>(Imports.FindMethodByName("UploadChunk"),
            new UploadChunkRequest { UploadId = upload.UploadId, Offset = 0, Data = ByteString.CopyFrom(file) });
        var events = new List<ImportEvent>();
        var rejected = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var importEvent in client.ServerStreamingAsync<ImportEvent>(Imports.FindMethodByName("CompleteUpload"),
                               new CompleteUploadRequest { UploadId = upload.UploadId, Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)) }))
            {
                events.Add(importEvent);
            }
        });
        var badPage = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync<ListImportsResponse>(Imports.FindMethodByName("ListImports"), new ListImportsRequest { PageSize = 999 }));
        var notAllowed = await Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync<ListAuditEntriesResponse>(AuditReflection.Descriptor.Services[0].FindMethodByName("ListAuditEntries"), new ListAuditEntriesRequest()));
        var unknownKey = await Assert.ThrowsAsync<RpcException>(() =>
            stranger.UnaryAsync<ListImportsResponse>(Imports.FindMethodByName("ListImports"), new ListImportsRequest()));
        var history = await client.UnaryAsync<ListImportsResponse>(Imports.FindMethodByName("ListImports"), new ListImportsRequest());

        Assert.Equal(ImportOutcome.Rejected, events.Last().Result.Outcome);
        Assert.Equal(StatusCode.InvalidArgument, rejected.StatusCode);
        Assert.NotEmpty(rejected.BadRequest!.FieldViolations);
        Assert.Equal(StatusCode.InvalidArgument, badPage.StatusCode);
        Assert.Equal("page_size", Assert.Single(badPage.BadRequest!.FieldViolations).Field);
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (notAllowed.StatusCode, notAllowed.ErrorInfo?.Reason));
        Assert.Equal((StatusCode.Unauthenticated, "API_KEY_INVALID"), (unknownKey.StatusCode, unknownKey.ErrorInfo?.Reason));
        Assert.Equal(ImportStatus.Rejected, Assert.Single(history.Imports).Status);
    }

    private RpcClient Client(RpcClientProtocol protocol, string apiKey) => new(new RpcClientOptions
    {
        Address = new Uri(protocol == RpcClientProtocol.Grpc ? server.Server.Endpoints.Grpc : server.Server.Endpoints.Http),
        Protocol = protocol,
        CompressRequests = protocol == RpcClientProtocol.Grpc,
        Headers = new Dictionary<string, string> { ["x-api-key"] = apiKey },
        DefaultDeadline = TimeSpan.FromSeconds(30),
    });
}
