using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Hosting;

/// <summary>
/// Absolute links into the web app for messages that leave the product (e-mails). Never built from the request's Host
/// header: a caller could otherwise have a password reset link point at a host of their choosing.
/// </summary>
public sealed class PublicLinks(IOptions<ServerOptions> options, IServiceProvider services)
{
    // A command-line verb serves nothing: there the links need Server:PublicUrl.
    private readonly IServer? server = services.GetService<IServer>();

    /// <summary>The web app's <paramref name="pathAndQuery"/> (e.g. <c>/exceptions?item=…</c>), on the same root as <see cref="To(string, IReadOnlyDictionary{string, string})"/>.</summary>
    public string To(string pathAndQuery) => Root().AbsoluteUri.TrimEnd('/') + "/" + pathAndQuery.TrimStart('/');

    /// <summary>
    /// The SPA's route (e.g. <c>reset-password</c>) on <see cref="ServerOptions.PublicUrl"/> or the server's HTTP address, with
    /// <paramref name="fragment"/> after <c>#</c>: secrets travel there (as in invitation links) because a browser never sends
    /// the fragment, so it reaches neither a server's log nor a Referer header.
    /// </summary>
    public Uri To(string route, IReadOnlyDictionary<string, string> fragment)
    {
        var root = Root();
        var builder = new UriBuilder(new Uri(root, root.AbsolutePath.TrimEnd('/') + "/" + route.TrimStart('/')))
        {
            Fragment = string.Join('&', fragment.Select(pair => $"{Uri.EscapeDataString(pair.Key)}={Uri.EscapeDataString(pair.Value)}")),
        };
        return builder.Uri;
    }

    private Uri Root() => options.Value.PublicUrl ?? new Uri(ListeningHttpAddress());

    // The first address is the HTTP/1.1 listener (the SPA's); see InvisibleServer.ListeningEndpoints.
    private string ListeningHttpAddress() =>
        server?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
        ?? throw new InvalidOperationException("Server:PublicUrl is not set and this process does not serve the web app: set it to where people reach the web app, so e-mails can link to it.");
}
