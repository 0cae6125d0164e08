using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Invisible.Server.Rpc;

public static class KestrelListeners
{
    /// <summary>
    /// Listens on the two ports of the API: <paramref name="httpPort"/> for the SPA and gRPC-Web
    /// (HTTP/1.1; also HTTP/2 when <paramref name="configureHttp"/> is given, which should add TLS), and <paramref name="grpcPort"/> for native
    /// gRPC over cleartext HTTP/2 (h2c), which needs prior knowledge and so cannot share a port with HTTP/1.1.
    /// Port 0 picks a free port; read the chosen ones from <c>IServerAddressesFeature</c>.
    /// </summary>
    public static void ListenRpc(this KestrelServerOptions kestrel, IPAddress address, int httpPort, int grpcPort, Action<ListenOptions>? configureHttp = null)
    {
        kestrel.Listen(address, httpPort, listen =>
        {
            // Cleartext HTTP/2 is only negotiable through TLS (ALPN), so without a TLS set-up this port speaks HTTP/1.1.
            listen.Protocols = configureHttp is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
            configureHttp?.Invoke(listen);
        });
        kestrel.Listen(address, grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
    }
}
