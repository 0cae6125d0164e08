using System.Net;
using System.Text.Json;
using Invisible.Server.Rpc;
using Invisible.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Invisible.Rpc.InteropHost;

/// <summary>
/// <c>Invisible.Rpc.InteropHost --ports-file FILE</c>: serves grpc.testing.TestService on two free loopback ports (HTTP/1.1
/// for gRPC-Web, h2c for gRPC) with the product's transport configuration and writes them as JSON,
/// {"http": 1234, "grpc": 1235}, to FILE (or stdout), then runs until stopped.
/// <para>
/// <c>Invisible.Rpc.InteropHost product --data-dir DIR</c>: starts the product exactly as <c>invisible serve --data-dir DIR
/// --port 0 --grpc-port 0</c> does (embedded cluster in DIR), which writes <c>DIR/endpoints.json</c>; a launcher of its own
/// so the interop suite does not depend on the CLI building.
/// </para>
/// </summary>
internal static class Program
{
    /// <summary>The browser origin the interop host allows, as a deployment would configure Rpc:CorsAllowedOrigins.</summary>
    public const string AllowedOrigin = "http://localhost:4200";

    private static async Task<int> Main(string[] args)
    {
        if (args.FirstOrDefault() == "product")
        {
            return await RunProductAsync(ValueOf(args, "--data-dir") ?? throw new ArgumentException("product needs --data-dir DIR"));
        }

        var portsFile = ValueOf(args, "--ports-file");
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Loopback, httpPort: 0, grpcPort: 0));
        builder.Services.AddGrpcTransport();
        builder.Services.Configure<RpcOptions>(options =>
        {
            // The shortest interval the health check publisher accepts; shorter ones fail at start-up.
            options.HealthWatchInterval = TimeSpan.FromSeconds(1);
            options.CorsAllowedOrigins.Add(AllowedOrigin);
        });

        await using var app = builder.Build();
        // The product's pipeline order (ServerComposition.UseInvisiblePipeline) without authentication: the interop
        // service is anonymous, and the product's refusals are proven by the cases against the product itself.
        app.UseGrpcTransport();
        app.MapGrpcService<TestService>();
        app.MapGrpcInfrastructure();
        await app.StartAsync();

        var ports = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(address => new Uri(address).Port)
            .ToArray();
        await WriteAtomicallyAsync(portsFile, JsonSerializer.Serialize(new { http = ports[0], grpc = ports[1] }));
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static async Task<int> RunProductAsync(string dataDirectory)
    {
        // The arguments ServeCommand (backend/Invisible.Cli/Commands/ServeCommand.cs) passes, with free ports.
        string[] arguments =
        [
            $"--Server:DataDirectory={Path.GetFullPath(dataDirectory)}",
            "--Server:Role=All",
            "--Server:HttpPort=0",
            "--Server:GrpcPort=0",
            "--Server:ListenAddress=127.0.0.1",
        ];
        await using var server = await InvisibleServer.StartAsync(arguments, configure: null, CancellationToken.None);
        await server.WaitForShutdownAsync(CancellationToken.None);
        return 0;
    }

    private static string? ValueOf(string[] args, string option) => args.SkipWhile(a => a != option).Skip(1).FirstOrDefault();

    private static async Task WriteAtomicallyAsync(string? path, string json)
    {
        if (path is null)
        {
            await Console.Out.WriteLineAsync(json);
            return;
        }

        // Written aside and renamed, so a reader polling for the file never sees it half-written.
        await File.WriteAllTextAsync(path + ".tmp", json);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
