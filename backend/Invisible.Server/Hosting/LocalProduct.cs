using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Platform.Secrets;
using Invisible.Server.FieldEncryption;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Invisible.Server.Database;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Invisible.Server.Hosting;

/// <summary>
/// The product's services without the web host, for command-line verbs working on a data directory. When <c>up</c> is
/// running on the same directory the embedded cluster is shared (attached to, and left running); otherwise it is started
/// for the duration of the verb.
/// </summary>
public sealed class LocalProduct : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly ILoggerFactory _bootLoggers;

    private LocalProduct(ServiceProvider services, ILoggerFactory bootLoggers)
    {
        _services = services;
        _bootLoggers = bootLoggers;
    }

    public IServiceProvider Services => _services;

    /// <summary>Opens the data directory logging to its log file and, from Information on, to the terminal.</summary>
    public static Task<LocalProduct> OpenAsync(string dataDirectory, CancellationToken cancellationToken) =>
        OpenAsync(dataDirectory, ProductLoggingOptions.Default, cancellationToken);

    /// <param name="logging">How much of the log reaches the terminal (the rest is in the data directory's log file).</param>
    /// <param name="settings">Settings that override every other source (e.g. the restore drill turns backups off on its scratch copy).</param>
    public static async Task<LocalProduct> OpenAsync(
        string dataDirectory, ProductLoggingOptions logging, CancellationToken cancellationToken, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddEnvironmentVariables("INVISIBLE_")
            .AddInMemoryCollection([new($"{ServerOptions.Section}:{nameof(ServerOptions.DataDirectory)}", dataDirectory), .. settings ?? []])
            .Build();
        var fullDataDirectory = Path.GetFullPath(dataDirectory);
        PrivateFileSystem.CreateDataDirectory(fullDataDirectory, InvisibleServer.ClusterRunsAsAnotherUser(configuration));
        var bootLoggers = ProductLogging.CreateBootLoggers(configuration, fullDataDirectory, logging);
        DatabaseRuntime database;
        try
        {
            database = await DatabaseRuntime.StartAsync(configuration, fullDataDirectory, bootLoggers, cancellationToken);
        }
        catch
        {
            bootLoggers.Dispose();
            throw;
        }

        var services = new ServiceCollection()
            .AddLogging(builder => builder.AddConfiguration(configuration.GetSection("Logging")).AddProductLogging(fullDataDirectory, logging, configuration))
            .AddSingleton<IConfiguration>(configuration);
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section);
        services.AddInvisibleDatabase(database);
        // Personal data is stored sealed (issue #20): verbs that write or read it (tenant create, vendor import, reconcile)
        // use the keys of the data directory's secrets file, the embedded server's own secret store.
        services.AddOptions<RuntimeOptions>().Configure(runtime => runtime.DataDirectory = fullDataDirectory);
        services.TryAddSingleton<ISecretStore, FileSecretStore>();
        services.AddSingleton<PersonalDataKeys>();
        services.AddProductTelemetry(configuration, ServerRole.All);
        var provider = services.BuildServiceProvider();
        // No host starts them here: created now so a verb's spans and measurements are exported (and flushed on dispose).
        _ = provider.GetService<TracerProvider>();
        _ = provider.GetService<MeterProvider>();
        return new LocalProduct(provider, bootLoggers);
    }

    public async ValueTask DisposeAsync()
    {
        var database = _services.GetRequiredService<DatabaseRuntime>();
        await _services.DisposeAsync();
        await database.DisposeAsync();
        // After the database: the embedded cluster logs its stop with the loggers it was started with.
        _bootLoggers.Dispose();
    }
}
