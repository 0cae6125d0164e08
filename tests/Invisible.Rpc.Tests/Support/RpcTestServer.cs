using System.Net;
using Invisible.Rpc.Hosting;
using Invisible.Rpc.Tests.Probe;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Invisible.Rpc.Tests.Support;

/// <summary>
/// A real Kestrel server on two free loopback ports (HTTP/1.1 and h2c) serving the probe service, with the
/// application hooks registered the way a product service would, and clients speaking each protocol.
/// </summary>
public sealed class RpcTestServer : IAsyncLifetime
{
    public const string AllowedOrigin = "https://app.invisible.test";
    public const int MaxMessageSize = 64 * 1024;
    public const string StaticPage = "<html>spa</html>";

    private WebApplication? _app;

    public int HttpPort { get; private set; }

    public int GrpcPort { get; private set; }

    public ProbeRecorder Recorder { get; } = new();

    public ToggleableReadiness Readiness { get; } = new();

    /// <summary>HTTP/2 with prior knowledge, as native gRPC clients connect to the h2c port.</summary>
    public HttpClient Http2 { get; } = new(new SocketsHttpHandler()) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>HTTP/1.1, as browsers' gRPC-Web requests reach the main port.</summary>
    public HttpClient Http11 { get; } = new(new SocketsHttpHandler()) { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TimeSpan.FromSeconds(10) };

    public Uri GrpcUri(string path) => new($"http://127.0.0.1:{GrpcPort}{path}");

    public Uri HttpUri(string path) => new($"http://127.0.0.1:{HttpPort}{path}");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Loopback, httpPort: 0, grpcPort: 0));
        builder.Services.AddSingleton(Recorder);
        builder.Services.AddHealthChecks().AddCheck("probe-readiness", Readiness, tags: ["ready"]);
        builder.Services.AddInvisibleRpc(options =>
            {
                options.MaxReceiveMessageSize = MaxMessageSize;
                options.MaxSendMessageSize = MaxMessageSize;
                options.CorsAllowedOrigins.Add(AllowedOrigin);
                options.HealthWatchInterval = TimeSpan.FromMilliseconds(50);
            })
            .AddService<ProbeHandler>(ProbeReflection.Descriptor.Services[0], "Upload")
            .AddExceptionMapper<ProbeExceptionMapper>()
            .AddAuthenticator<ProbeAuthenticator>();

        _app = builder.Build();
        _app.UseInvisibleRpc();
        _app.Run(context => context.Response.WriteAsync(StaticPage));
        await _app.StartAsync();
        var ports = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Select(a => new Uri(a).Port).ToArray();
        (HttpPort, GrpcPort) = (ports[0], ports[1]);
    }

    public async Task DisposeAsync()
    {
        Http2.Dispose();
        Http11.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A readiness check the tests switch, standing for the server's real ones (database reachable, migrations applied).</summary>
public sealed class ToggleableReadiness : IHealthCheck
{
    private volatile bool _isReady = true;

    public bool IsReady
    {
        get => _isReady;
        set => _isReady = value;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_isReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("switched off by the test"));
}

[CollectionDefinition(Name)]
public sealed class RpcServerCollection : ICollectionFixture<RpcTestServer>
{
    public const string Name = "rpc server";
}
