using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.Hosting;

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

    /// <summary>The built SPA (<c>frontend/dist/invisible/browser</c>); found next to the repository when not set.</summary>
    public string? SpaRoot { get; set; }
}
