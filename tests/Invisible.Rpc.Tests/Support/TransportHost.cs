using System.Net;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Invisible.Server.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Invisible.Rpc.Tests.Support;

/// <summary>
/// A real Kestrel on two free loopback ports, configured as the product configures its API (<c>ListenRpc</c>,
/// <c>AddGrpcTransport</c>, <c>UseGrpcTransport</c>, <c>MapGrpcInfrastructure</c>, in the order of
/// ServerComposition), serving the probe service; with clients for each way in.
/// </summary>
public sealed class TransportHost : IAsyncLifetime
{
    public const string AllowedOrigin = "https://app.invisible.test";

    /// <summary>Small, so the size limits are reached with small messages.</summary>
    public const int MaxMessageSize = 64 * 1024;

    private WebApplication? _app;
    private readonly List<GrpcChannel> _channels = [];

    public int HttpPort { get; private set; }

    public int GrpcPort { get; private set; }

    public ProbeRecorder Recorder { get; } = new();

    /// <summary>The readiness check behind grpc.health.v1, which tests turn unhealthy and back.</summary>
    public SwitchableReadiness Readiness { get; } = new();

    /// <summary>HTTP/2 with prior knowledge, as native gRPC clients reach the h2c port.</summary>
    public HttpClient Http2 { get; } = new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>HTTP/1.1, as browsers' gRPC-Web requests reach the main port.</summary>
    public HttpClient Http11 { get; } = new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(10),
    };

    public Uri GrpcUri(string path) => new($"http://127.0.0.1:{GrpcPort}{path}");

    public Uri HttpUri(string path) => new($"http://127.0.0.1:{HttpPort}{path}");

    /// <summary>Grpc.Net.Client over h2c: native gRPC.</summary>
    public GrpcChannel NativeChannel() => Track(GrpcChannel.ForAddress(GrpcUri("/"), new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null }));

    /// <summary>Grpc.Net.Client.Web over HTTP/1.1 on the main port, binary or text as a browser sends it.</summary>
    public GrpcChannel WebChannel(GrpcWebMode mode = GrpcWebMode.GrpcWeb) => Track(GrpcChannel.ForAddress(HttpUri("/"), new GrpcChannelOptions
    {
        HttpHandler = new GrpcWebHandler(mode, new SocketsHttpHandler()),
        HttpVersion = HttpVersion.Version11,
        MaxReceiveMessageSize = null,
        MaxSendMessageSize = null,
    }));

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Loopback, httpPort: 0, grpcPort: 0));
        builder.Services.AddSingleton(Recorder);
        builder.Services.AddHealthChecks().AddCheck("probe-readiness", Readiness, tags: [RpcOptions.ReadinessTag]);
        builder.Services.AddGrpcTransport();
        builder.Services.Configure<RpcOptions>(options =>
        {
            options.MaxReceiveMessageSize = MaxMessageSize;
            options.MaxSendMessageSize = MaxMessageSize;
            options.CorsAllowedOrigins.Add(AllowedOrigin);
            options.CompressResponses = true;
            // The shortest period the health check publisher accepts (see the report on RpcOptions.HealthWatchInterval).
            options.HealthWatchInterval = TimeSpan.FromSeconds(1);
        });

        _app = builder.Build();
        _app.UseGrpcTransport();
        _app.MapGrpcService<ProbeServiceImplementation>();
        _app.MapGrpcInfrastructure();
        await _app.StartAsync();

        // ListenRpc binds the HTTP port first, then the h2c port.
        var ports = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(address => new Uri(address).Port)
            .ToArray();
        (HttpPort, GrpcPort) = (ports[0], ports[1]);
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        Http2.Dispose();
        Http11.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private GrpcChannel Track(GrpcChannel channel)
    {
        lock (_channels)
        {
            _channels.Add(channel);
        }

        return channel;
    }
}

public sealed class SwitchableReadiness : IHealthCheck
{
    private volatile bool _ready = true;

    public bool Ready
    {
        get => _ready;
        set => _ready = value;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ready ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("switched off by the test"));
}

[CollectionDefinition(Name)]
public sealed class TransportHostCollection : ICollectionFixture<TransportHost>
{
    public const string Name = "transport host";
}
