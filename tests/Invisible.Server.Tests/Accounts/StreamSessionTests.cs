using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Contracts.Events.V1;

namespace Invisible.Server.Tests.Accounts;

/// <summary>
/// An open <c>Watch</c> stream keeps checking that its caller may still call: signing out everywhere or revoking the API key
/// ends it with UNAUTHENTICATED (SESSION_ENDED) instead of letting it run on until the client hangs up.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class StreamSessionTests(AccountsServer server)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Signing_out_everywhere_ends_an_open_watch_stream_with_session_ended()
    {
        var tenant = await server.NewTenantAsync();
        var watcher = await tenant.FullSessionAsync(tenant.Admin);
        var other = await tenant.FullSessionAsync(tenant.Admin);

        var ended = await WatchUntilEndedAsync(new Metadata { { "authorization", $"Bearer {watcher.AccessToken}" } }, () =>
            tenant.CallAsync(Rpcs.Auth("SignOutEverywhere"), new SignOutEverywhereRequest(), other.AccessToken));

        Assert.Equal((StatusCode.Unauthenticated, "SESSION_ENDED"), ended);
    }

    [Fact]
    public async Task Revoking_an_api_key_ends_its_open_watch_stream()
    {
        var tenant = await server.NewTenantAsync();
        var admin = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var created = (await tenant.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "dashboard screen", Role = Identity.Roles.Auditor }, admin))
            .As<CreateApiKeyResponse>();

        var ended = await WatchUntilEndedAsync(new Metadata { { "x-api-key", created.Key } }, () =>
            tenant.CallAsync(Rpcs.Admin("RevokeApiKey"), new RevokeApiKeyRequest { ApiKeyId = created.ApiKey.Id }, admin));

        Assert.Equal((StatusCode.Unauthenticated, "SESSION_ENDED"), ended);
    }

    /// <summary>Opens a stream, waits for its first message, does <paramref name="endAccess"/>, and reads on until the stream ends.</summary>
    private async Task<(StatusCode, string?)> WatchUntilEndedAsync(Metadata credentials, Func<Task<RpcReply>> endAccess)
    {
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        using var call = new EventService.EventServiceClient(channel).Watch(new WatchRequest(), credentials, DateTime.UtcNow + Deadline);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OK, (await endAccess()).Status);
        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }

            return (StatusCode.OK, null);
        }
        catch (RpcException exception)
        {
            return (exception.StatusCode, exception.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
        }
    }
}
