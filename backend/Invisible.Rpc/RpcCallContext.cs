using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Google.Protobuf.Reflection;

namespace Invisible.Rpc;

/// <summary>How the call arrived: native gRPC (HTTP/2) or gRPC-Web (binary or base64 text).</summary>
public enum RpcProtocol
{
    Grpc,
    GrpcWeb,
    GrpcWebText,
}

/// <summary>Everything a handler or interceptor knows about the current call besides the request message.</summary>
public sealed class RpcCallContext
{
    internal RpcCallContext(
        MethodDescriptor method,
        RpcProtocol protocol,
        RpcMetadata requestHeaders,
        DateTimeOffset? deadline,
        ConnectionInfo connection,
        string requestId,
        ClaimsPrincipal user,
        IServiceProvider services,
        bool compressResponses,
        CancellationToken cancellationToken)
    {
        Method = method;
        Protocol = protocol;
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        CancellationToken = cancellationToken;
        _connection = connection;
        RequestId = requestId;
        User = user;
        Services = services;
        CompressResponses = compressResponses;
    }

    /// <summary>The method called; <c>Method.FullName</c> is e.g. "grpc.testing.TestService.UnaryCall".</summary>
    public MethodDescriptor Method { get; }

    public RpcProtocol Protocol { get; }

    /// <summary>Custom metadata sent by the client (protocol headers removed; -bin values decoded).</summary>
    public RpcMetadata RequestHeaders { get; }

    /// <summary>Sent with the first response message, or with the status when there is none. Add before writing.</summary>
    public RpcMetadata ResponseHeaders { get; } = new();

    /// <summary>Sent with the status at the end of the call.</summary>
    public RpcMetadata ResponseTrailers { get; } = new();

    /// <summary>When the client stops waiting (from <c>grpc-timeout</c>), UTC; null when it set none.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Cancelled when the client cancels or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Cancelled only when the client goes away, which tells a cancellation from an expired deadline.</summary>
    internal CancellationToken ClientGone { get; init; }

    private readonly ConnectionInfo _connection;
    private string? _peer;

    /// <summary>The client's address, e.g. "ipv4:127.0.0.1:53412"; formatted when first asked for, which most calls never do.</summary>
    public string Peer => _peer ??= _connection.RemoteIpAddress switch
    {
        { AddressFamily: AddressFamily.InterNetworkV6 } address => $"ipv6:[{address}]:{_connection.RemotePort}",
        IPAddress address => $"ipv4:{address}:{_connection.RemotePort}",
        null => "unknown",
    };

    /// <summary>The call on the wire, which the last step of the pipeline reads from and writes to.</summary>
    internal Hosting.RpcHttpCall? Call { get; set; }

    /// <summary>From the client's <c>x-request-id</c>, else generated; echoed in the response headers and in every log line.</summary>
    public string RequestId { get; }

    /// <summary>Set by the authentication hook (<see cref="Interception.IRpcAuthenticator"/>); anonymous otherwise.</summary>
    public ClaimsPrincipal User { get; set; }

    /// <summary>The request's service scope.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Whether the request message arrived gzip-compressed.</summary>
    public bool RequestCompressed { get; internal set; }

    /// <summary>
    /// Whether response messages written from now on are gzip-compressed, when the client accepts gzip.
    /// The response's <c>grpc-encoding</c> is fixed by the first message, so turning this on after an
    /// uncompressed first message has no effect.
    /// </summary>
    public bool CompressResponses { get; set; }
}
