using System.Net;
using Invisible.Platform;
using Invisible.Server.Database;
using Invisible.Server.Rpc;
using Invisible.Server.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Invisible.Server.Hosting;

/// <summary>
/// The running product: its database (embedded cluster or configured), the HTTP host, and <c>endpoints.json</c>.
/// Started by <c>invisible up</c> / <c>serve</c> and by tests, which get exactly what a user gets.
/// </summary>
public sealed class InvisibleServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DatabaseRuntime _database;
    private readonly ILoggerFactory _bootLoggers;
    private readonly string _dataDirectory;
    private bool _disposed;

    private InvisibleServer(WebApplication app, DatabaseRuntime database, ILoggerFactory bootLoggers, string dataDirectory, ServerEndpoints endpoints)
    {
        _app = app;
        _database = database;
        _bootLoggers = bootLoggers;
        _dataDirectory = dataDirectory;
        Endpoints = endpoints;
    }

    public ServerEndpoints Endpoints { get; }

    public IServiceProvider Services => _app.Services;

    public DatabaseRuntime Database => _database;

    /// <summary>Whether the embedded cluster will run as the unprivileged <c>postgres</c> user: as root, without a configured database.</summary>
    internal static bool ClusterRunsAsAnotherUser(IConfiguration configuration) =>
        Environment.IsPrivilegedProcess && string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres"));

    /// <summary>Starts the server logging to the data directory's log file and, from Information on, to the terminal.</summary>
    /// <param name="args">Configuration overrides in ASP.NET Core's command-line form (<c>--Server:HttpPort=0</c>).</param>
    public static Task<InvisibleServer> StartAsync(string[] args, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken) =>
        StartAsync(args, configure, ProductLoggingOptions.Default, cancellationToken);

    /// <param name="args">Configuration overrides in ASP.NET Core's command-line form (<c>--Server:HttpPort=0</c>).</param>
    /// <param name="logging">How much of the log reaches the terminal (the rest is in the data directory's log file).</param>
    public static async Task<InvisibleServer> StartAsync(
        string[] args, Action<WebApplicationBuilder>? configure, ProductLoggingOptions logging, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables("INVISIBLE_");
        var options = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        PrivateFileSystem.CreateDataDirectory(dataDirectory, ClusterRunsAsAnotherUser(builder.Configuration));
        builder.Configuration.AddInMemoryCollection(RoleSettings(options.Role, dataDirectory));
        builder.Logging.AddProductLogging(dataDirectory, logging, builder.Configuration);

        var bootLoggers = ProductLogging.CreateBootLoggers(builder.Configuration, dataDirectory, logging);
        DatabaseRuntime database;
        try
        {
            database = await DatabaseRuntime.StartAsync(builder.Configuration, dataDirectory, bootLoggers, cancellationToken);
        }
        catch
        {
            bootLoggers.Dispose();
            throw;
        }

        try
        {
            builder.Services.AddInvisibleServer(builder.Configuration, database);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenRpc(IPAddress.Parse(options.ListenAddress), options.HttpPort, options.GrpcPort));
            configure?.Invoke(builder);

            var app = builder.Build();
            app.UseInvisiblePipeline(options.Role, SpaHosting.Locate(options.SpaRoot));
            await app.StartAsync(cancellationToken);

            var endpoints = ListeningEndpoints(app);
            await endpoints.WriteAsync(dataDirectory, cancellationToken);
            return new InvisibleServer(app, database, bootLoggers, dataDirectory, endpoints);
        }
        catch
        {
            await database.DisposeAsync();
            bootLoggers.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl-C, SIGTERM, or <see cref="DisposeAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ServerEndpoints.Remove(_dataDirectory);
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        await _database.DisposeAsync();
        // After the database: the embedded cluster logs its stop with the loggers it was started with.
        _bootLoggers.Dispose();
    }

    /// <summary>Settings that follow from the role and the data directory, so each is configured in one place only.</summary>
    private static Dictionary<string, string?> RoleSettings(ServerRole role, string dataDirectory) => new()
    {
        ["Runtime:DataDirectory"] = dataDirectory,
        ["Events:DispatcherEnabled"] = (role != ServerRole.Api).ToString(),
    };

    // Kestrel lists bound addresses in the order the endpoints were configured: HTTP first, then h2c.
    private static ServerEndpoints ListeningEndpoints(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();
        if (addresses.Length != 2)
        {
            throw new InvalidOperationException($"Expected an HTTP and a gRPC listener, Kestrel reports: {string.Join(", ", addresses)}");
        }

        var smtp = app.Services.GetService<Intake.SmtpIntakeListener>()?.BoundEndpoint;
        return new ServerEndpoints(addresses[0], addresses[1], smtp?.ToString());
    }
}
