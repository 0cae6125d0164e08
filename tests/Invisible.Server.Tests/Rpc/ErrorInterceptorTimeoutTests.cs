using Grpc.Core;
using Invisible.Server.Rpc;
using Invisible.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Server.Tests.Rpc;

public sealed class ErrorInterceptorTimeoutTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_statement_ended_by_statement_timeout_answers_deadline_exceeded_not_internal()
    {
        var interceptor = new ErrorInterceptor(NullLogger<ErrorInterceptor>.Instance);

        var failure = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new FakeCallContext(CancellationToken.None), async (_, _) =>
            {
                await using var connection = new NpgsqlConnection(fixture.Database.AppConnectionString);
                await connection.OpenAsync();
                await using (var limit = new NpgsqlCommand("set statement_timeout = 10", connection))
                {
                    await limit.ExecuteNonQueryAsync();
                }

                await using var slow = new NpgsqlCommand("select pg_sleep(1)", connection);
                await slow.ExecuteNonQueryAsync();
                return "unreachable";
            }));

        Assert.Equal(StatusCode.DeadlineExceeded, failure.StatusCode);
    }

    [Fact]
    public async Task A_statement_the_client_cancelled_answers_cancelled()
    {
        var interceptor = new ErrorInterceptor(NullLogger<ErrorInterceptor>.Instance);
        using var cancellation = new CancellationTokenSource();

        var failure = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", new FakeCallContext(cancellation.Token), async (_, context) =>
            {
                await using var connection = new NpgsqlConnection(fixture.Database.AppConnectionString);
                await connection.OpenAsync();
                await using var slow = new NpgsqlCommand("select pg_sleep(5)", connection);
                cancellation.CancelAfter(TimeSpan.FromMilliseconds(50));
                await slow.ExecuteNonQueryAsync(context.CancellationToken);
                return "unreachable";
            }));

        Assert.Equal(StatusCode.Cancelled, failure.StatusCode);
    }

    /// <summary>A call context with an HTTP context (for the request id) and no deadline.</summary>
    private sealed class FakeCallContext : ServerCallContext
    {
        private readonly CancellationToken _cancellationToken;

        public FakeCallContext(CancellationToken cancellationToken)
        {
            _cancellationToken = cancellationToken;
            UserState["__HttpContext"] = new DefaultHttpContext { TraceIdentifier = "test-request" };
        }

        protected override string MethodCore => "/test.Service/Slow";
        protected override string HostCore => "localhost";
        protected override string PeerCore => "ipv4:127.0.0.1:1";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore { get; } = [];
        protected override CancellationToken CancellationTokenCore => _cancellationToken;
        protected override Metadata ResponseTrailersCore { get; } = [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore { get; } = new(null, []);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
