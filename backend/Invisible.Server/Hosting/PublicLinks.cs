using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Hosting;

/// <summary>
/// Absolute links into the web app for messages that leave the product (e-mails). Never built from the request's Host
/// header: a caller could otherwise have a password reset link point at a host of their choosing.
/// </summary>
public sealed class PublicLinks(IOptions<ServerOptions> options, IServer server)
{
    /// <summary>
    /// The SPA's route (e.g. <c>reset-password</c>) on <see cref="ServerOptions.PublicUrl"/> or the server's HTTP address, with
    /// <paramref name="fragment"/> after <c>#</c>: secrets travel there (as in invitation links) because a browser never sends
    /// the fragment, so it reaches neither a server's log nor a Referer header.
    /// </summary>
    public Uri To(string route, IReadOnlyDictionary<string, string> fragment)
    {
        var root = options.Value.PublicUrl ?? new Uri(ListeningHttpAddress());
        var builder = new UriBuilder(new Uri(root, root.AbsolutePath.TrimEnd('/') + "/" + route.TrimStart('/')))
        {
            Fragment = string.Join('&', fragment.Select(pair => $"{Uri.EscapeDataString(pair.Key)}={Uri.EscapeDataString(pair.Value)}")),
        };
        return builder.Uri;
    }

    // The first address is the HTTP/1.1 listener (the SPA's); see InvisibleServer.ListeningEndpoints.
    private string ListeningHttpAddress() =>
        server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? throw new InvalidOperationException("The server is not listening yet, and Server:PublicUrl is not set: no link to the web app can be made.");
}
