using System.Text.Json;

namespace Invisible.Server.Hosting;

/// <summary>
/// <c>DATA_DIR/endpoints.json</c>: tells other processes (the CLI, tests, scripts) where a running server listens.
/// Written once the server accepts requests, removed when it stops, so its presence means "up".
/// <see cref="Smtp"/> is <c>host:port</c> of the e-mail intake listener, absent when this process does not run it.
/// </summary>
public sealed record ServerEndpoints(string Http, string Grpc, string? Smtp = null)
{
    public const string FileName = "endpoints.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    public async Task WriteAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var path = PathIn(dataDirectory);
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(this, Json), cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }

    public static async Task<ServerEndpoints?> ReadAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<ServerEndpoints>(stream, Json, cancellationToken);
    }

    public static void Remove(string dataDirectory) => File.Delete(PathIn(dataDirectory));
}
