using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Audit.V1;
using Invisible.Contracts.Imports.V1;

namespace Invisible.Server.Tests.Accounts;

/// <summary>
/// A machine import as an integrator writes it with grpc-dotnet: the generated clients against the running product with an
/// API key, over gRPC-Web on the main port and native gRPC on the h2c port, with the product's real errors and a server
/// stream that ends in an error.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class ClientsWithApiKeyTests(AccountsServer server)
{
    public static TheoryData<bool> Transports => [true, false];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_clerk_key_uploads_a_file_reads_its_rejection_and_gets_the_products_error_details(bool grpcWeb)
    {
        var tenant = await server.NewTenantAsync();
        var adminToken = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var key = (await tenant.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "client test", Role = Identity.Roles.Clerk }, adminToken))
            .As<CreateApiKeyResponse>().Key;
        using var channel = Channel(grpcWeb);
        var imports = new ImportService.ImportServiceClient(channel);
        var audit = new AuditService.AuditServiceClient(channel);
        var withKey = new CallOptions(new Metadata { { "x-api-key", key } }, DateTime.UtcNow.AddSeconds(30));
        var withUnknownKey = new CallOptions(new Metadata { { "x-api-key", "ink_not-a-key" } }, DateTime.UtcNow.AddSeconds(30));
        var file = Encoding.UTF8.GetBytes("vendor_code,name\nV1,Acme\n,Nameless\n");

        var upload = await imports.StartUploadAsync(new StartUploadRequest { Kind = DocumentKind.Vendors, FileName = "vendors.csv", Size = file.Length }, withKey);
        await imports.UploadChunkAsync(new UploadChunkRequest { UploadId = upload.UploadId, Offset = 0, Data = ByteString.CopyFrom(file) }, withKey);
        var events = new List<ImportEvent>();
        var rejected = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var completion = imports.CompleteUpload(
                new CompleteUploadRequest { UploadId = upload.UploadId, Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)) }, withKey);
            await foreach (var importEvent in completion.ResponseStream.ReadAllAsync())
            {
                events.Add(importEvent);
            }
        });
        var badPage = await Assert.ThrowsAsync<RpcException>(async () => await imports.ListImportsAsync(new ListImportsRequest { PageSize = 999 }, withKey));
        var notAllowed = await Assert.ThrowsAsync<RpcException>(async () => await audit.ListAuditEntriesAsync(new ListAuditEntriesRequest(), withKey));
        var unknownKey = await Assert.ThrowsAsync<RpcException>(async () => await imports.ListImportsAsync(new ListImportsRequest(), withUnknownKey));
        var history = await imports.ListImportsAsync(new ListImportsRequest(), withKey);

        Assert.Equal(ImportOutcome.Rejected, events.Last().Result.Outcome);
        Assert.Equal(StatusCode.InvalidArgument, rejected.StatusCode);
        Assert.NotEmpty(rejected.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations);
        Assert.Equal(StatusCode.InvalidArgument, badPage.StatusCode);
        Assert.Equal("page_size", Assert.Single(badPage.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations).Field);
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (notAllowed.StatusCode, notAllowed.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason));
        Assert.Equal((StatusCode.Unauthenticated, "API_KEY_INVALID"), (unknownKey.StatusCode, unknownKey.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason));
        Assert.Equal(ImportStatus.Rejected, Assert.Single(history.Imports).Status);
    }

    private GrpcChannel Channel(bool grpcWeb) => grpcWeb
        ? GrpcChannel.ForAddress(server.Server.Endpoints.Http, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = new Version(1, 1),
        })
        : GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
}
