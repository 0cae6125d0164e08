namespace Invisible.Rpc.Client;

/// <summary>How <see cref="RpcClient"/> frames calls on the wire.</summary>
public enum RpcClientProtocol
{
    /// <summary>
    /// gRPC-Web (binary) over HTTP/1.1, or HTTP/2 when TLS negotiates it: what the server's main port speaks, through any
    /// proxy. Trailers travel in the body.
    /// </summary>
    GrpcWeb,

    /// <summary>Native gRPC over HTTP/2: cleartext with prior knowledge (h2c, the server's gRPC port) or TLS.</summary>
    Grpc,
}

public sealed class RpcClientOptions
{
    /// <summary>The server, e.g. <c>https://invisible.example.com</c> or <c>http://localhost:8080</c>; a path prefix is kept.</summary>
    public required Uri Address { get; init; }

    public RpcClientProtocol Protocol { get; init; } = RpcClientProtocol.GrpcWeb;

    /// <summary>Sends request messages gzip-compressed (<c>grpc-encoding: gzip</c>). Responses are always accepted compressed.</summary>
    public bool CompressRequests { get; init; }

    /// <summary>Larger response messages end the call with RESOURCE_EXHAUSTED instead of being read.</summary>
    public int MaxReceiveMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>The deadline of calls that name none (sent as <c>grpc-timeout</c>); null for none.</summary>
    public TimeSpan? DefaultDeadline { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Metadata sent with every call, e.g. <c>x-api-key</c>. Names are lower case; values are never logged.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Sent as <c>user-agent</c>.</summary>
    public string UserAgent { get; init; } = "invisible-rpc-client";
}
