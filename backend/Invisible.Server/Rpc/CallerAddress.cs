using Invisible.Rpc;

namespace Invisible.Server.Rpc;

public static class CallerAddress
{
    /// <summary>The client's IP address without the port ("ipv4:10.0.0.7:53412" → "ipv4:10.0.0.7"): the unit of per-address limits.</summary>
    public static string Address(this RpcCallContext context)
    {
        var peer = context.Peer;
        var portSeparator = peer.LastIndexOf(':');
        return portSeparator > peer.IndexOf(':', StringComparison.Ordinal) ? peer[..portSeparator] : peer;
    }
}
