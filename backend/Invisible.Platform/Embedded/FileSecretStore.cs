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

    // The secrets the product generates itself: JWT signing key, TOTP encryption key, recovery-code key, personal-data keys.
    private static readonly Dictionary<string, Func<string>> Generated = new(StringComparer.Ordinal)
    {
        [SecretNames.JwtSigningKey] = () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)),
        [SecretNames.TotpEncryptionKey] = () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        [SecretNames.RecoveryCodeKey] = () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        [SecretNames.PersonalDataEncryptionKey] = () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        [SecretNames.BlindIndexKey] = () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
    };

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
            if (Generated.Keys.Any(name => !_secrets.ContainsKey(name)))
            {
                _secrets = await AddMissingGeneratedAsync(cancellationToken);
            }

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
        var secrets = Generated.ToDictionary(secret => secret.Key, secret => secret.Value());
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

    /// <summary>
    /// A file written by an earlier version lacks secrets added since: they are generated and added under an exclusive lock
    /// file, re-reading first, so a server and a CLI starting together agree on one value (a lost encryption key loses data).
    /// </summary>
    private async Task<Dictionary<string, string>> AddMissingGeneratedAsync(CancellationToken cancellationToken)
    {
        var lockPath = _path + ".lock";
        var lockOptions = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            lockOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        for (var attempt = 0; ; attempt++)
        {
            FileStream fileLock;
            try
            {
                fileLock = new FileStream(lockPath, lockOptions);
            }
            catch (IOException) when (attempt < 100)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
                continue;
            }

            await using (fileLock)
            {
                var secrets = await ReadAsync(cancellationToken);
                var added = Generated.Where(secret => !secrets.ContainsKey(secret.Key)).Select(secret => secret.Key).ToList();
                if (added.Count == 0)
                {
                    return secrets;
                }

                foreach (var name in added)
                {
                    secrets[name] = Generated[name]();
                }

                var temporary = _path + ".tmp";
                var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                await using (var stream = new FileStream(temporary, fileOptions))
                {
                    await JsonSerializer.SerializeAsync(stream, secrets, Indented, cancellationToken);
                }

                File.Move(temporary, _path, overwrite: true);
                _logger.LogInformation("Added generated secrets {Names} to the secrets file {Path}", string.Join(", ", added), _path);
                return secrets;
            }
        }
    }
}
