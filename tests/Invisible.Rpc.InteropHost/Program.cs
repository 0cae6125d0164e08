using System.Net;
using System.Text.Json;
using Grpc.Testing;
using Invisible.Rpc.Hosting;
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
/// Serves grpc.testing.TestService on two free loopback ports (HTTP/1.1 for gRPC-Web, h2c for gRPC) and writes
/// them as JSON, {"http": 1234, "grpc": 1235}, to the file named by --ports-file (or stdout), then runs until stopped.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var portsFile = args.SkipWhile(a => a != "--ports-file").Skip(1).FirstOrDefault();
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Loopback, httpPort: 0, grpcPort: 0));
        builder.Services.AddInvisibleRpc(options =>
            {
                options.HealthWatchInterval = TimeSpan.FromMilliseconds(200);
                options.CorsAllowedOrigins.Add("http://localhost:4200");
            })
            .AddService<TestServiceHandler>(TestReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("TestService"), TestServiceHandler.Unimplemented);

        await using var app = builder.Build();
        app.UseInvisibleRpc();
        await app.StartAsync();

        var ports = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(address => new Uri(address).Port)
            .ToArray();
        var json = JsonSerializer.Serialize(new { http = ports[0], grpc = ports[1] });
        if (portsFile is null)
        {
            await Console.Out.WriteLineAsync(json);
        }
        else
        {
            // Written aside and renamed, so a reader polling for the file never sees it half-written.
            await File.WriteAllTextAsync(portsFile + ".tmp", json);
            File.Move(portsFile + ".tmp", portsFile, overwrite: true);
        }

        await app.WaitForShutdownAsync();
        return 0;
    }
}
