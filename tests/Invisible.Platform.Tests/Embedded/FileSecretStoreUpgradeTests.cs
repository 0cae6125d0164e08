using System.Text.Json;
using Invisible.Platform.Embedded;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Invisible.Platform.Tests.Embedded;

/// <summary>A secrets file written before the TOTP encryption key existed gains one, once, and keeps everything else.</summary>
public sealed class FileSecretStoreUpgradeTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "invisible-platform-secrets-" + Guid.NewGuid().ToString("N")[..8]);

    private IOptions<RuntimeOptions> Runtime => Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory });

    private string SecretsPath => Path.Combine(_dataDirectory, FileSecretStore.FileName);

    private static CancellationToken Ct => TestTimeout.Token;

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_new_file_has_a_32_byte_TOTP_encryption_key()
    {
        using var store = new FileSecretStore(Runtime, NullLogger<FileSecretStore>.Instance);

        Assert.Equal(32, Convert.FromBase64String(await store.GetSecretAsync(SecretNames.TotpEncryptionKey, Ct)).Length);
    }

    [Fact]
    public async Task An_older_file_gains_the_missing_key_keeps_its_own_values_and_stays_owner_only()
    {
        Directory.CreateDirectory(_dataDirectory);
        await File.WriteAllTextAsync(SecretsPath, """{ "jwt-signing-key": "b2xkLWtleQ==", "smtp-password": "kept" }""", Ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(SecretsPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // Two processes upgrading at once (a server and a CLI) must end up with one key: a lost encryption key loses data.
        using var first = new FileSecretStore(Runtime, NullLogger<FileSecretStore>.Instance);
        using var second = new FileSecretStore(Runtime, NullLogger<FileSecretStore>.Instance);
        var keys = await Task.WhenAll(
            first.GetSecretAsync(SecretNames.TotpEncryptionKey, Ct), second.GetSecretAsync(SecretNames.TotpEncryptionKey, Ct));

        var onDisk = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(SecretsPath, Ct))!;
        Assert.Equal(keys[0], keys[1]);
        Assert.Equal(keys[0], onDisk[SecretNames.TotpEncryptionKey]);
        Assert.Equal(32, Convert.FromBase64String(onDisk[SecretNames.RecoveryCodeKey]).Length);
        Assert.Equal(("b2xkLWtleQ==", "kept"), (onDisk[SecretNames.JwtSigningKey], onDisk[SecretNames.SmtpPassword]));
        Assert.Equal("b2xkLWtleQ==", await first.GetSecretAsync(SecretNames.JwtSigningKey, Ct));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SecretsPath));
        }
    }
}
