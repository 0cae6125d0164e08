using Invisible.Server.Hosting;
using Invisible.Testing;

namespace Invisible.Server.Tests;

/// <summary>The real product on free loopback ports with its own embedded cluster and a tiny built web app.</summary>
public sealed class RunningServer : IAsyncLifetime
{
    // Not CreateTempSubdirectory: its 0700 mode would keep the cluster's `postgres` account out when tests run as root.
    private readonly TemporaryDirectory _directory = new("invisible-server-test-");

    public string DataDirectory => _directory.Path;

    public string SpaRoot => Path.Combine(DataDirectory, "spa");

    public InvisibleServer Server { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(SpaRoot, "assets"));
        await File.WriteAllTextAsync(Path.Combine(SpaRoot, "index.html"), "<!doctype html><title>Invisible</title><app-root></app-root>");
        await File.WriteAllTextAsync(Path.Combine(SpaRoot, "main-4F2A9CXB.js"), string.Concat(Enumerable.Repeat("console.log('the app');\n", 200)));
        await File.WriteAllTextAsync(Path.Combine(SpaRoot, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");

        Server = await InvisibleServer.StartAsync(
            [
                $"--Server:DataDirectory={DataDirectory}",
                "--Server:HttpPort=0",
                "--Server:GrpcPort=0",
                $"--Server:SpaRoot={SpaRoot}",
                "--Rpc:ReadinessProbeInterval=00:00:00.200",
                .. Accounts.AccountsServer.GenerousRequestLimits,
            ],
            configure: null,
            CancellationToken.None);
        Http = new HttpClient { BaseAddress = new Uri(Server.Endpoints.Http) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        _directory.Dispose();
    }
}
