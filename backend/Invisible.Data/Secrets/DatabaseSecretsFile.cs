using System.Security.Cryptography;
using System.Text.Json;

namespace Invisible.Data.Secrets;

/// <summary>
/// The database passwords of embedded mode, kept in one JSON file readable only by its owner (mode 0600).
/// This is the only code that reads or writes that file, so moving the secrets to a secret store later touches one class.
/// A missing secret is generated on first use (cryptographically random, URL-safe), so every run after the first reuses it.
/// </summary>
public sealed class DatabaseSecretsFile
{
    public const string SuperuserPassword = "postgres_superuser_password";
    public const string OwnerPassword = "invisible_owner_password";
    public const string AppPassword = "invisible_app_password";

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly TimeSpan LockRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public DatabaseSecretsFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The conventional location inside a product data directory.</summary>
    public static DatabaseSecretsFile InDataDirectory(string dataDirectory) =>
        new(System.IO.Path.Combine(dataDirectory, "database-secrets.json"));

    public string Path { get; }

    /// <summary>Returns the named secret, generating and storing it first if the file does not have it yet.</summary>
    public async Task<string> GetOrCreateAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        // Two processes on one data directory (the server and a CLI verb) may both start cold; the lock file makes
        // "read, maybe generate, write" atomic so they never end up with different passwords for one role.
        await using var fileLock = await AcquireLockAsync(cancellationToken);
        var secrets = await ReadAsync(cancellationToken);
        if (secrets.TryGetValue(name, out var existing))
        {
            return existing;
        }

        var generated = GenerateSecret();
        secrets[name] = generated;
        await WriteAsync(secrets, cancellationToken);
        return generated;
    }

    /// <summary>Whether the named secret has been generated already.</summary>
    public async Task<bool> ContainsAsync(string name, CancellationToken cancellationToken)
    {
        await using var fileLock = await AcquireLockAsync(cancellationToken);
        return (await ReadAsync(cancellationToken)).ContainsKey(name);
    }

    /// <summary>A random 192-bit secret, base64url-encoded so it is safe inside connection strings.</summary>
    public static string GenerateSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    private async Task<Dictionary<string, string>> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        await using var stream = File.OpenRead(Path);
        try
        {
            return await JsonSerializer.DeserializeAsync<Dictionary<string, string>>(stream, cancellationToken: cancellationToken)
                   ?? new Dictionary<string, string>(StringComparer.Ordinal);
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"Secrets file {Path} is not a JSON object of strings: {exception.Message}", exception);
        }
    }

    private async Task WriteAsync(Dictionary<string, string> secrets, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = Path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        await using (var stream = new FileStream(temporary, options))
        {
            await JsonSerializer.SerializeAsync(stream, secrets, Indented, cancellationToken);
        }

        File.Move(temporary, Path, overwrite: true);
    }

    private async Task<FileStream> AcquireLockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        while (true)
        {
            try
            {
                return new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException)
            {
                await Task.Delay(LockRetryDelay, cancellationToken);
            }
        }
    }
}
