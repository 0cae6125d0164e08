using System.Net;
using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Invisible.Contracts.Auth.V1;
using Invisible.Contracts.Imports.V1;

namespace Invisible.Server.Tests;

/// <summary>
/// The product running while its database is down (the embedded cluster stopped under it): calls answer UNAVAILABLE with
/// DATABASE_UNAVAILABLE and a retry-after, the same over native gRPC and gRPC-Web, and /readyz says why with a reason code
/// rather than the driver's text.
/// </summary>
public sealed class DatabaseOutageTests(RunningServer running) : IClassFixture<RunningServer>, IAsyncLifetime
{
    public async Task InitializeAsync() => await running.Server.Database.Cluster!.StopAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<bool> Transports => [true, false];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task An_anonymous_call_that_needs_the_database_is_unavailable_with_a_retry_after(bool grpcWeb)
    {
        using var channel = Channel(grpcWeb);
        var auth = new AuthService.AuthServiceClient(channel);

        var failure = await Assert.ThrowsAsync<RpcException>(async () => await auth.SignInAsync(
            new SignInRequest { Email = "someone@example.com", Password = "correct horse battery staple" }, deadline: DateTime.UtcNow.AddSeconds(60)));

        AssertDatabaseUnavailable(failure);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_call_with_an_api_key_is_unavailable_too_not_unauthenticated_or_internal(bool grpcWeb)
    {
        using var channel = Channel(grpcWeb);
        var imports = new ImportService.ImportServiceClient(channel);

        var failure = await Assert.ThrowsAsync<RpcException>(async () => await imports.ListImportsAsync(
            new ListImportsRequest(), new Metadata { { "x-api-key", "ink_checked-against-the-database" } }, DateTime.UtcNow.AddSeconds(60)));

        AssertDatabaseUnavailable(failure);
    }

    [Fact]
    public async Task Readyz_names_the_reason_without_the_drivers_error_text()
    {
        var (status, body) = await ReadinessTests.ReadyzAsync(running.Http, HttpStatusCode.ServiceUnavailable);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("DATABASE_UNREACHABLE", json.RootElement.GetProperty("checks").GetProperty("database").GetProperty("problem").GetString());
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to connect", body, StringComparison.Ordinal);
    }

    private static void AssertDatabaseUnavailable(RpcException failure)
    {
        Assert.True(failure.StatusCode == StatusCode.Unavailable, failure.ToString());
        var info = failure.GetRpcStatus()?.GetDetail<ErrorInfo>();
        Assert.Equal("DATABASE_UNAVAILABLE", info?.Reason);
        Assert.Equal("5", info?.Metadata["retry_after_seconds"]);
        Assert.Equal("5", failure.Trailers.GetValue("retry-after"));
        Assert.DoesNotContain("127.0.0.1", failure.Status.Detail, StringComparison.Ordinal);
    }

    private GrpcChannel Channel(bool grpcWeb) => grpcWeb
        ? GrpcChannel.ForAddress(running.Server.Endpoints.Http, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = new Version(1, 1),
        })
        : GrpcChannel.ForAddress(running.Server.Endpoints.Grpc);
}
