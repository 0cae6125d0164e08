using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.Hosting;

/// <summary>Which part of the product this process runs. One executable; deployments scale the roles separately.</summary>
public enum ServerRole
{
    /// <summary>Everything in one process: the embedded default.</summary>
    All,

    /// <summary>gRPC, gRPC-Web and the web app; events are written to the outbox but dispatched by workers.</summary>
    Api,

    /// <summary>Event subscribers (matching, notifications, exports) and the outbox dispatcher; no API, no web app.</summary>
    Worker,
}

/// <summary>Where and how the server listens. Bound from the <c>Server</c> configuration section.</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>Everything the product keeps on this machine: the embedded cluster, secrets, uploads, <c>endpoints.json</c>.</summary>
    [Required]
    public string DataDirectory { get; set; } = ".data";

    /// <summary>Loopback by default: the embedded default is a single-machine product.</summary>
    [Required]
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>HTTP/1.1 port for the SPA, gRPC-Web and health endpoints; 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int HttpPort { get; set; } = 5080;

    /// <summary>h2c port for native gRPC; 0 picks a free port.</summary>
    [Range(0, 65535)]
    public int GrpcPort { get; set; } = 5081;

    public ServerRole Role { get; set; } = ServerRole.All;

    /// <summary>
    /// The address people reach the web app at (e.g. <c>https://ap.example.com</c>), for links in e-mails. When not set, the
    /// server's own HTTP address is used, which is right only when people reach it directly (the embedded default).
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>The built SPA (<c>frontend/dist/invisible/browser</c>); found next to the repository when not set.</summary>
    public string? SpaRoot { get; set; }
}
