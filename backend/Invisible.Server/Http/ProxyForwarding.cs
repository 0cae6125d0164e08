using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Http;

/// <summary>
/// Where the product runs behind a reverse proxy or load balancer, section <c>ForwardedHeaders</c>: only these addresses
/// may tell it the client's address and scheme. None by default: a server reached directly ignores
/// <c>X-Forwarded-*</c>, so a client cannot pick the address that rate limits, IP allowlists and the audit trail see.
/// </summary>
public sealed class ProxyForwardingOptions
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Addresses of the proxies in front of the server, e.g. "10.0.0.5".</summary>
    public IList<string> KnownProxies { get; } = new List<string>();

    /// <summary>Networks the proxies are in, in CIDR notation, e.g. "10.0.0.0/24".</summary>
    public IList<string> KnownNetworks { get; } = new List<string>();

    /// <summary>How many proxies in a row the server trusts (entries of <c>X-Forwarded-For</c> read from the right).</summary>
    public int ForwardLimit { get; set; } = 1;
}

/// <summary>
/// ASP.NET Core's forwarded-headers middleware with the configured proxies only: <c>X-Forwarded-For</c> becomes the
/// connection's remote address and <c>X-Forwarded-Proto</c> the request's scheme (so HSTS is sent behind a TLS proxy).
/// <c>X-Forwarded-Host</c> is not honoured: links and CORS keep the host the client asked for.
/// </summary>
public static class ProxyForwarding
{
    public static IServiceCollection AddProxyForwarding(this IServiceCollection services)
    {
        services.AddOptions<ProxyForwardingOptions>().BindConfiguration(ProxyForwardingOptions.Section)
            .Validate(options => options.KnownProxies.All(proxy => IPAddress.TryParse(proxy, out _)), "ForwardedHeaders:KnownProxies must be IP addresses.")
            .Validate(options => options.KnownNetworks.All(network => System.Net.IPNetwork.TryParse(network, out _)), "ForwardedHeaders:KnownNetworks must be CIDR ranges such as 10.0.0.0/24.")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyForwardingOptions>>((forwarded, configured) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = configured.Value.ForwardLimit;
            // The framework trusts loopback by default; the product trusts only what the operator names.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // The obsolete list still holds the loopback default and is still consulted.
            forwarded.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in configured.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in configured.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return services;
    }

    /// <summary>
    /// The middleware only when a proxy is configured: with both lists empty ASP.NET Core would believe any sender.
    /// </summary>
    public static IApplicationBuilder UseProxyForwarding(this IApplicationBuilder app)
    {
        var proxies = app.ApplicationServices.GetRequiredService<IOptions<ProxyForwardingOptions>>().Value;
        return proxies.KnownProxies.Count + proxies.KnownNetworks.Count > 0 ? app.UseForwardedHeaders() : app;
    }
}
