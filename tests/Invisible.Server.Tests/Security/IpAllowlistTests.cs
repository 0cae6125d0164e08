using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Contracts.Imports.V1;
using Invisible.Server.Tests.Accounts;
using Npgsql;

namespace Invisible.Server.Tests.Security;

/// <summary>
/// The tenant's IP allowlist, with clients at documentation addresses told to the server by its one trusted proxy
/// (loopback, <see cref="BehindProxyServer"/>); the administrator sets the list from loopback itself.
/// </summary>
public sealed class IpAllowlistTests(BehindProxyServer server) : IClassFixture<BehindProxyServer>
{
    private const string Office = "203.0.113.0/24";
    private const string Elsewhere = "198.51.100.9";

    [Fact]
    public async Task An_api_key_call_from_outside_the_allowlist_is_refused_as_address_not_allowed_and_audited()
    {
        var tenant = await server.NewTenantAsync();
        await AllowAsync(tenant, Office, "127.0.0.1");
        var key = await RequestRateLimitTests.ApiKeyAsync(tenant, "clerk", server);
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var imports = new ImportService.ImportServiceClient(channel);

        await imports.ListImportsAsync(new ListImportsRequest(), From("203.0.113.20", ("x-api-key", key)));
        var refusal = await Assert.ThrowsAsync<RpcException>(async () =>
            await imports.ListImportsAsync(new ListImportsRequest(), From(Elsewhere, ("x-api-key", key))));

        Assert.Equal(
            (StatusCode.Unauthenticated, "ADDRESS_NOT_ALLOWED", 1L),
            (refusal.StatusCode, refusal.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason, await RefusalsAuditedAsync(tenant, Elsewhere)));
    }

    [Fact]
    public async Task A_sign_in_from_outside_the_allowlist_is_refused_as_address_not_allowed_and_audited()
    {
        var tenant = await server.NewTenantAsync();
        await AllowAsync(tenant, Office, "127.0.0.1");
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var auth = new AuthService.AuthServiceClient(channel);

        var refusal = await Assert.ThrowsAsync<RpcException>(async () => await auth.SignInAsync(
            new SignInRequest { Email = tenant.Admin.Email, Password = tenant.Admin.Password }, From(Elsewhere)));

        Assert.Equal(
            (StatusCode.PermissionDenied, "ADDRESS_NOT_ALLOWED", 1L),
            (refusal.StatusCode, refusal.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason, await RefusalsAuditedAsync(tenant, Elsewhere)));
    }

    [Fact]
    public async Task A_refresh_from_outside_the_allowlist_is_refused_as_address_not_allowed()
    {
        var tenant = await server.NewTenantAsync();
        await AllowAsync(tenant, Office, "127.0.0.1");
        var session = await tenant.FullSessionAsync(tenant.Admin);
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var auth = new AuthService.AuthServiceClient(channel);

        var refusal = await Assert.ThrowsAsync<RpcException>(async () =>
            await auth.RefreshAsync(new RefreshRequest { RefreshToken = session.RefreshToken }, From(Elsewhere)));

        Assert.Equal((StatusCode.PermissionDenied, "ADDRESS_NOT_ALLOWED"), (refusal.StatusCode, refusal.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason));
    }

    [Fact]
    public async Task An_allowlist_that_would_shut_out_the_administrator_setting_it_is_refused()
    {
        var tenant = await server.NewTenantAsync();
        var admin = await tenant.FullSessionAsync(tenant.Admin);

        var reply = await tenant.CallAsync(
            AdminReflection.Descriptor.Services[0].FindMethodByName("SetIpAllowlist"), new SetIpAllowlistRequest { CidrRanges = { Office } }, admin.AccessToken);

        Assert.Equal((StatusCode.FailedPrecondition, "ALLOWLIST_EXCLUDES_CALLER"), (reply.Status, reply.Reason));
    }

    private static CallOptions From(string clientAddress, params (string Name, string Value)[] headers)
    {
        var metadata = new Metadata { { "x-forwarded-for", clientAddress } };
        foreach (var (name, value) in headers)
        {
            metadata.Add(name, value);
        }

        return new CallOptions(metadata, DateTime.UtcNow.AddSeconds(30));
    }

    private static async Task AllowAsync(TestTenant tenant, params string[] ranges)
    {
        var admin = await tenant.FullSessionAsync(tenant.Admin);
        var reply = await tenant.CallAsync(
            AdminReflection.Descriptor.Services[0].FindMethodByName("SetIpAllowlist"), new SetIpAllowlistRequest { CidrRanges = { ranges } }, admin.AccessToken);
        Assert.Equal(StatusCode.OK, reply.Status);
    }

    private static async Task<long> RefusalsAuditedAsync(TestTenant tenant, string address)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        await using var count = new NpgsqlCommand(
            "select count(*) from audit_log where action = 'auth.address_refused' and after ->> 'address' = @address", unitOfWork.Connection, unitOfWork.Transaction);
        count.Parameters.AddWithValue("address", address);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
