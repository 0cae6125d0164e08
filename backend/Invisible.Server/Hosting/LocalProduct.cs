using Invisible.Server.Database;

namespace Invisible.Server.Hosting;

/// <summary>
/// The product's services without the web host, for command-line verbs working on a data directory. When <c>up</c> is
/// running on the same directory the embedded cluster is shared (attached to, and left running); otherwise it is started
/// for the duration of the verb.
/// </summary>
public sealed class LocalProduct : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private LocalProduct(ServiceProvider services) => _services = services;

    public IServiceProvider Services => _services;

    public static async Task<LocalProduct> OpenAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddEnvironmentVariables("INVISIBLE_")
            .AddInMemoryCollection([new($"{ServerOptions.Section}:{nameof(ServerOptions.DataDirectory)}", dataDirectory)])
            .Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddConfiguration(configuration.GetSection("Logging")).AddProductConsole());
        await using var bootServices = services.BuildServiceProvider();
        var database = await DatabaseRuntime.StartAsync(
            configuration, Path.GetFullPath(dataDirectory), bootServices.GetRequiredService<ILoggerFactory>(), cancellationToken);
        services.AddSingleton<IConfiguration>(configuration);
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section);
        services.AddInvisibleDatabase(database);
        return new LocalProduct(services.BuildServiceProvider());
    }

    public async ValueTask DisposeAsync()
    {
        var database = _services.GetRequiredService<DatabaseRuntime>();
        await _services.DisposeAsync();
        await database.DisposeAsync();
    }
}
