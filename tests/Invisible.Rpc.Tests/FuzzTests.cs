using System.Text;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.GrpcWireClient;

namespace Invisible.Rpc.Tests;

/// <summary>
/// Malformed bodies and headers, generated from a fixed seed: every request must end promptly with a valid
/// gRPC status, and the server must go on serving.
/// </summary>
[Collection(RpcServerCollection.Name)]
public sealed class FuzzTests(RpcTestServer server)
{
    private const int Cases = 2_400;
    private const int Seed = 20_261_122;
    private static readonly TimeSpan PerRequestTimeout = TimeSpan.FromSeconds(10);

    private static readonly string[] Paths =
    [
        "/invisible.rpctest.v1.ProbeService/Echo", "/invisible.rpctest.v1.ProbeService/Count", "/invisible.rpctest.v1.ProbeService/Fail",
        "/invisible.rpctest.v1.ProbeService/Upload", "/grpc.health.v1.Health/Check", "/invisible.rpctest.v1.ProbeService/", "/x.Y/Z",
        "/invisible.rpctest.v1.ProbeService/Echo/extra", "/%41.%e2%98%ba/%2F",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/grpc", "application/grpc+proto", "application/grpc-web", "application/grpc-web+proto",
        "application/grpc-web-text", "application/grpc+json", "application/grpcfoo", "APPLICATION/GRPC",
    ];

    [Fact]
    public async Task Thousands_of_malformed_requests_each_end_promptly_with_a_gRPC_status_and_the_server_keeps_serving()
    {
        var random = new Random(Seed);
        var requests = Enumerable.Range(0, Cases).Select(i => MakeCase(random, i)).ToList();
        var failures = new List<string>();

        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (fuzzCase, _) =>
        {
            using var timeout = new CancellationTokenSource(PerRequestTimeout);
            try
            {
                var result = await SendAsync(fuzzCase.Client, fuzzCase.Request, timeout.Token);
                if (result.Status is not (>= 0 and <= 16))
                {
                    lock (failures)
                    {
                        failures.Add($"{fuzzCase.Description}: no valid grpc-status (HTTP {(int)result.HttpStatus}, status '{result.Status}')");
                    }
                }
            }
            catch (Exception exception)
            {
                lock (failures)
                {
                    failures.Add($"{fuzzCase.Description}: {(timeout.IsCancellationRequested ? "hung" : exception.GetType().Name + " " + exception.Message)}");
                }
            }
            finally
            {
                fuzzCase.Request.Dispose();
            }
        });

        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} cases failed (seed {Seed}):\n{string.Join("\n", failures.Take(20))}");
        var healthy = await SendAsync(server.Http2, Request(server.Http2, server.GrpcUri(Paths[0]), GrpcContentType, Frame(new EchoRequest { Text = "still here" })));
        Assert.Equal("still here", Assert.Single(healthy.Messages).As(EchoReply.Parser).Text);
    }

    private FuzzCase MakeCase(Random random, int index)
    {
        var native = random.Next(2) == 0;
        var client = native ? server.Http2 : server.Http11;
        var uri = native ? server.GrpcUri(Pick(random, Paths)) : server.HttpUri(Pick(random, Paths));
        var contentType = native ? Pick(random, ContentTypes[..2]) : Pick(random, ContentTypes[2..5]);
        var headers = new List<(string, string)>();
        var mutation = random.Next(12);
        var body = Frame(new EchoRequest { Text = new string('a', random.Next(40)), ReplyPadding = random.Next(100) });
        switch (mutation)
        {
            case 0:
                body = RandomBytes(random, random.Next(300));
                break;
            case 1:
                body[random.Next(body.Length)] = (byte)random.Next(256);
                body[random.Next(body.Length)] = (byte)random.Next(256);
                break;
            case 2:
                body = body[..random.Next(body.Length)];
                break;
            case 3:
                body[1] = (byte)random.Next(256);
                body[2] = (byte)random.Next(256);
                break;
            case 4:
                body[0] = (byte)random.Next(256);
                break;
            case 5:
                body = [.. body, .. RandomBytes(random, random.Next(1, 20))];
                break;
            case 6:
                headers.Add(("grpc-timeout", RandomText(random, random.Next(1, 12))));
                break;
            case 7:
                headers.Add(("grpc-encoding", Pick(random, ["gzip", "deflate", "identity", RandomText(random, 6)])));
                break;
            case 8:
                headers.Add(("x-fuzz-bin", RandomText(random, random.Next(1, 30))));
                break;
            case 9:
                contentType = Pick(random, ContentTypes);
                break;
            case 10:
                body = Frame(1, RandomBytes(random, random.Next(50)));
                headers.Add(("grpc-encoding", "gzip"));
                break;
            default:
                body = Frame(new EchoRequest { Text = "big" });
                body[1] = 0x7f;
                break;
        }

        if (contentType.StartsWith("application/grpc-web-text", StringComparison.Ordinal))
        {
            body = random.Next(3) == 0 ? Encoding.ASCII.GetBytes(RandomText(random, body.Length)) : Encoding.ASCII.GetBytes(Convert.ToBase64String(body));
        }

        var request = Request(client, uri, contentType, body, [.. headers]);
        if (random.Next(20) == 0)
        {
            request.Method = HttpMethod.Put;
        }

        return new FuzzCase(client, request, $"case {index} (mutation {mutation}, {contentType}, {uri.AbsolutePath}, {string.Join(";", headers)})");
    }

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Printable ASCII only: HTTP itself forbids control characters in header values.</summary>
    private static string RandomText(Random random, int length) =>
        new(Enumerable.Range(0, length).Select(_ => (char)random.Next(0x21, 0x7f)).ToArray());

    private sealed record FuzzCase(HttpClient Client, HttpRequestMessage Request, string Description);
}
