using System.Diagnostics;
using System.Net;
using System.Text;
using Invisible.Rpc.Tests.Probe;
using Invisible.Rpc.Tests.Support;
using static Invisible.Rpc.Tests.Support.RawGrpc;

namespace Invisible.Rpc.Tests;

/// <summary>
/// Malformed bodies and headers from a fixed seed, sent by hand on purpose (no client library would send them): every
/// gRPC request must end promptly with a valid grpc-status, every request that is not gRPC with an HTTP error, and the
/// server must go on serving.
/// </summary>
[Collection(TransportHostCollection.Name)]
public sealed class FuzzTests(TransportHost host)
{
    private const int Cases = 2_400;
    private const int Seed = 20_260_517;
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Whole = TimeSpan.FromMinutes(4);

    private static readonly string[] MethodPaths =
    [
        "/invisible.grpctest.v1.ProbeService/Echo", "/invisible.grpctest.v1.ProbeService/Count", "/invisible.grpctest.v1.ProbeService/Fail",
        "/grpc.health.v1.Health/Check", "/invisible.grpctest.v1.ProbeService/Nope", "/x.Y/Z",
    ];

    /// <summary>Paths that do not name a method: answered by routing, which may say 404 without a grpc-status.</summary>
    private static readonly string[] OtherPaths = ["/invisible.grpctest.v1.ProbeService/", "/invisible.grpctest.v1.ProbeService/Echo/extra", "/%41.%e2%98%ba/%2F", "/"];

    private static readonly string[] NativeContentTypes = ["application/grpc", "application/grpc+proto"];

    private static readonly string[] WebContentTypes = ["application/grpc-web", "application/grpc-web+proto", "application/grpc-web-text", "application/grpc-web-text+proto"];

    private static readonly string[] NonGrpcContentTypes = ["text/plain", "application/json", "application/grpcfoo", "application/octet-stream", "multipart/form-data", ""];

    [Fact]
    public async Task Thousands_of_malformed_requests_each_end_promptly_with_a_gRPC_status_and_the_server_keeps_serving()
    {
        var random = new Random(Seed);
        var cases = Enumerable.Range(0, Cases).Select(i => MakeCase(random, i)).ToList();
        var failures = new List<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        using var whole = new CancellationTokenSource(Whole);
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = whole.Token }, async (fuzz, _) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(whole.Token);
            timeout.CancelAfter(PerRequest);
            using var request = fuzz.Request;
            var verdict = await JudgeAsync(fuzz, timeout, statuses);
            if (verdict is not null)
            {
                lock (failures)
                {
                    failures.Add($"{fuzz.Description}: {verdict}");
                }
            }
        });

        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} cases failed (seed {Seed}):\n{string.Join("\n", failures.Take(25))}");
        // The cases reached gRPC's handling, not only routing: malformed frames (INTERNAL), oversized messages
        // (RESOURCE_EXHAUSTED), unknown methods (UNIMPLEMENTED) and intact requests (OK) all occurred.
        Assert.Superset(new HashSet<int> { 0, 8, 12, 13 }, statuses.ToHashSet());
        Assert.True(clock.Elapsed < Whole, $"{Cases} cases took {clock.Elapsed}");
        var healthy = await SendAsync(host.Http2, Request(host.GrpcUri(MethodPaths[0]), "application/grpc", Frame(new EchoRequest { Text = "still here" })));
        Assert.Equal("still here", EchoReply.Parser.ParseFrom(Assert.Single(healthy.Messages).Payload).Text);
    }

    /// <returns>Null when the answer is acceptable, else what was wrong.</returns>
    private static async Task<string?> JudgeAsync(FuzzCase fuzz, CancellationTokenSource timeout, System.Collections.Concurrent.ConcurrentBag<int> statuses)
    {
        RawResponse response;
        try
        {
            response = await SendAsync(fuzz.Client, fuzz.Request, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return $"no answer within {PerRequest.TotalSeconds} s";
        }
        catch (HttpRequestException exception)
        {
            return $"connection failed: {exception.Message} {exception.InnerException?.GetType().Name}: {exception.InnerException?.Message}";
        }

        if (response.Status is { } status)
        {
            statuses.Add(status);
            return status is >= 0 and <= 16 ? null : $"grpc-status {status} is not a status code";
        }

        // Without a grpc-status, only a request that is not a gRPC call may be answered, and only with an HTTP error.
        if (fuzz.IsGrpcCall)
        {
            return $"no grpc-status (HTTP {(int)response.HttpStatus}, {response.ContentType})";
        }

        return (int)response.HttpStatus >= 400 ? null : $"HTTP {(int)response.HttpStatus} without a grpc-status for a request that is not gRPC";
    }

    private FuzzCase MakeCase(Random random, int index)
    {
        var native = random.Next(2) == 0;
        var client = native ? host.Http2 : host.Http11;
        var path = random.Next(10) == 0 ? Pick(random, OtherPaths) : Pick(random, MethodPaths);
        var contentType = Pick(random, native ? NativeContentTypes : WebContentTypes);
        var method = HttpMethod.Post;
        var headers = new List<(string, string)>();
        var body = Frame(new EchoRequest { Text = new string('a', random.Next(40)), ReplyPadding = random.Next(100) });
        var mutation = random.Next(15);
        switch (mutation)
        {
            case 0: // random bytes instead of frames
                body = RandomBytes(random, random.Next(300));
                break;
            case 1: // corrupted bytes anywhere
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    body[random.Next(body.Length)] = (byte)random.Next(256);
                }

                break;
            case 2: // truncated frame
                body = body[..random.Next(body.Length)];
                break;
            case 3: // a length that does not match the payload
                body[3] = (byte)random.Next(256);
                body[4] = (byte)random.Next(256);
                break;
            case 4: // a compressed flag that is neither 0 nor 1, or 1 without grpc-encoding
                body[0] = (byte)random.Next(1, 256);
                break;
            case 5: // trailing garbage after the message
                body = [.. body, .. RandomBytes(random, random.Next(1, 20))];
                break;
            case 6: // a bad grpc-timeout
                headers.Add(("grpc-timeout", Pick(random, ["", "-1S", "1", "S", "999999999H", "1.5S", "100000000000n", "1x", RandomText(random, random.Next(1, 12))])));
                break;
            case 7: // an unknown or mismatched grpc-encoding
                headers.Add(("grpc-encoding", Pick(random, ["gzip", "deflate", "identity", "br", RandomText(random, 6)])));
                break;
            case 8: // a -bin header that is not base64
                headers.Add(("x-fuzz-bin", RandomText(random, random.Next(1, 30))));
                break;
            case 9: // a content type that is not gRPC
                contentType = Pick(random, NonGrpcContentTypes);
                break;
            case 10: // flagged compressed, but the payload is not gzip
                body = Frame(1, RandomBytes(random, random.Next(50)));
                headers.Add(("grpc-encoding", "gzip"));
                break;
            case 11: // a huge declared length with a short body
                body = Frame(new EchoRequest { Text = "big" });
                body[1] = (byte)random.Next(0x01, 0x80);
                break;
            case 12: // a declared length over MaxReceiveMessageSize, with the bytes
                body = Frame(0, RandomBytes(random, TransportHost.MaxMessageSize + random.Next(1, 1_000)));
                break;
            case 13: // two messages for a unary method
                body = [.. body, .. body];
                break;
            default: // not POST
                method = Pick(random, [HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch]);
                break;
        }

        if (contentType.StartsWith("application/grpc-web-text", StringComparison.Ordinal))
        {
            // Garbage base64 a third of the time; the rest is the (mutated) body, encoded.
            body = random.Next(3) == 0 ? Encoding.ASCII.GetBytes(RandomText(random, Math.Max(1, body.Length))) : Encoding.ASCII.GetBytes(Convert.ToBase64String(body));
        }

        var uri = native ? host.GrpcUri(path) : host.HttpUri(path);
        var request = Request(uri, contentType, body, [.. headers]);
        request.Method = method;
        if (!native)
        {
            // One HTTP/1.1 connection per case: Kestrel closes a connection after some malformed requests (an unread
            // body), and a pooled connection closing under the next case would blame that case. Its own connection
            // still fails the case if the server drops it without an answer.
            request.Headers.ConnectionClose = true;
        }

        // A gRPC call: POST of a gRPC content type to /Service/Method. Anything else is some other HTTP request.
        var isGrpcCall = method == HttpMethod.Post && mutation != 9 && MethodPaths.Contains(path);
        return new FuzzCase(client, request, isGrpcCall, $"case {index} (mutation {mutation}, {method} {contentType} {(native ? "h2c" : "http/1.1")} {path}, {string.Join(";", headers)})");
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

    private sealed record FuzzCase(HttpClient Client, HttpRequestMessage Request, bool IsGrpcCall, string Description);
}
