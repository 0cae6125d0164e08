using System.Security.Cryptography;
using System.Text.Json;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Embedded;

/// <summary>
/// Secrets in <c>{data directory}/secrets.json</c>, readable by the owner only (0600 on Unix). The file is created on
/// first use with freshly generated values for the secrets the product can generate itself (the JWT signing key);
/// secrets that come from elsewhere (QuickBooks, SMTP) are added to the file by the operator.
/// </summary>
public sealed class FileSecretStore : ISecretStore, IDisposable
{
    public const string FileName = "secrets.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly string _path;
    private readonly ILogger<FileSecretStore> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, string>? _secrets;

    public FileSecretStore(IOptions<RuntimeOptions> options, ILogger<FileSecretStore> logger)
    {
        _path = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), FileName);
        _logger = logger;
    }

    public async Task<string> GetSecretAsync(string name, CancellationToken cancellationToken)
    {
        var secrets = await LoadAsync(cancellationToken);
        return secrets.TryGetValue(name, out var value) ? value : throw new SecretNotFoundException(name, $"secrets file {_path}");
    }

    public void Dispose() => _gate.Dispose();

    private async Task<Dictionary<string, string>> LoadAsync(CancellationToken cancellationToken)
    {
        if (_secrets is not null)
        {
            return _secrets;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            _secrets ??= File.Exists(_path) ? await ReadAsync(cancellationToken) : await CreateAsync(cancellationToken);
            return _secrets;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Dictionary<string, string>> ReadAsync(CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(_path);
        try
        {
            return await JsonSerializer.DeserializeAsync<Dictionary<string, string>>(stream, cancellationToken: cancellationToken)
                ?? throw new InvalidDataException($"{_path}: expected a JSON object of secret names to string values, found null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{_path}: not a JSON object of secret names to string values (line {e.LineNumber + 1}): {e.Message}", e);
        }
    }

    private async Task<Dictionary<string, string>> CreateAsync(CancellationToken cancellationToken)
    {
        var secrets = new Dictionary<string, string>
        {
            [SecretNames.JwtSigningKey] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);

        // The mode is set when the file is created, so the secret is never readable by others, not even briefly.
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using var stream = new FileStream(_path, fileOptions);
            await JsonSerializer.SerializeAsync(stream, secrets, Indented, cancellationToken);
        }
        catch (IOException) when (File.Exists(_path))
        {
            // Another process (e.g. the CLI beside a running server) created it first: theirs wins.
            return await ReadAsync(cancellationToken);
        }

        _logger.LogInformation("Created the secrets file {Path} with generated secrets {Names}", _path, string.Join(", ", secrets.Keys));
        return secrets;
    }
}
