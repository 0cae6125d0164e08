using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Imports.V1;
using ImportServiceClient = Invisible.Contracts.Imports.V1.ImportService.ImportServiceClient;
using Invisible.Platform.Blobs;
using Invisible.Server.Imports;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Server.Tests.Imports;

/// <summary>One open upload per tenant; its clock is moved past an upload session's lifetime by the tests.</summary>
public sealed class OneOpenUploadServer : AccountsServer
{
    protected override IEnumerable<string> Settings => [.. base.Settings, "--Imports:Uploads:MaxOpenUploadsPerTenant=1"];
}

public sealed class UploadQuotaTests(OneOpenUploadServer server) : IClassFixture<OneOpenUploadServer>
{
    [Fact]
    public async Task A_tenant_with_its_quota_of_open_uploads_is_refused_another_as_resource_exhausted()
    {
        var (imports, options) = await ClerkAsync();
        await imports.StartUploadAsync(Upload(10), options);

        var refusal = await Assert.ThrowsAsync<RpcException>(async () => await imports.StartUploadAsync(Upload(10), options));

        Assert.Equal(
            (StatusCode.ResourceExhausted, "UPLOAD_QUOTA_EXCEEDED"), (refusal.StatusCode, refusal.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason));
    }

    [Fact]
    public async Task The_chunks_of_an_upload_abandoned_until_its_session_expired_are_swept()
    {
        var (imports, options, tenant) = await ClerkWithTenantAsync();
        var started = await imports.StartUploadAsync(Upload(10), options);
        await imports.UploadChunkAsync(new UploadChunkRequest { UploadId = started.UploadId, Offset = 0, Data = ByteString.CopyFromUtf8("id,na") }, options);
        var blobs = server.Server.Services.GetRequiredService<IBlobStore>();
        var uploads = $"tenants/{tenant.Id:N}/uploads/";
        var chunksBefore = (await blobs.ListAsync(uploads, CancellationToken.None)).Count;

        server.Clock.Advance(UploadSessions.Lifetime + TimeSpan.FromMinutes(1));
        await server.Server.Services.GetRequiredService<AbandonedUploadSweep>().SweepAsync(CancellationToken.None);

        Assert.Equal((1, 0), (chunksBefore, (await blobs.ListAsync(uploads, CancellationToken.None)).Count));
    }

    private static StartUploadRequest Upload(long size) => new() { Kind = DocumentKind.Vendors, FileName = "vendors.csv", Size = size };

    private async Task<(ImportServiceClient, CallOptions)> ClerkAsync()
    {
        var (imports, options, _) = await ClerkWithTenantAsync();
        return (imports, options);
    }

    private async Task<(ImportServiceClient, CallOptions, TestTenant)> ClerkWithTenantAsync()
    {
        var tenant = await server.NewTenantAsync();
        var key = await RequestRateLimitTests.ApiKeyAsync(tenant, "clerk", server);
        var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        return (new ImportServiceClient(channel), new CallOptions(new Metadata { { "x-api-key", key } }, DateTime.UtcNow.AddSeconds(60)), tenant);
    }
}
