using System.Globalization;
using Invisible.Data.Tenancy;
using Invisible.Server.Hosting;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Cli.Tests.Operations;

/// <summary>
/// Backups and point-in-time recovery with the real tools: the product's embedded cluster archiving WAL through pgBackRest into
/// its encrypted repository, <c>invisible backup</c> and <c>invisible restore</c> as separate processes, as an operator runs them.
/// </summary>
public sealed class BackupRestoreTests : IDisposable
{
    private readonly TemporaryDirectory _source = new("invisible-backup-source-");
    private readonly TemporaryDirectory _restored = new("invisible-backup-restored-");

    [Fact]
    public async Task A_restore_to_a_moment_between_two_changes_brings_back_exactly_the_changes_before_it()
    {
        await RunAsync("tenant", "create", "alpha", "--data-dir", _source.Path);
        await RunAsync("backup", "--type", "full", "--data-dir", _source.Path);
        await RunAsync("tenant", "create", "before-the-moment", "--data-dir", _source.Path);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var moment = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss+00", CultureInfo.InvariantCulture);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await RunAsync("tenant", "create", "after-the-moment", "--data-dir", _source.Path);

        var restore = await RunAsync("restore", "--from", _source.Path, "--data-dir", _restored.Path, "--to", moment);

        Assert.Contains("Restored", restore.Output, StringComparison.Ordinal);
        Assert.Equal(["alpha", "before-the-moment"], await TenantSlugsAsync(_restored.Path));
    }

    [Fact]
    public async Task A_restored_data_directory_has_the_originals_token_and_totp_keys_but_never_the_repository_passphrase()
    {
        await RunAsync("tenant", "create", "alpha", "--data-dir", _source.Path);
        var secrets = """{ "totp-encryption-key": "the-original-totp-key", "jwt-signing-key": "the-original-signing-key" }""";
        await File.WriteAllTextAsync(Path.Combine(_source.Path, "secrets.json"), secrets);
        await RunAsync("backup", "--type", "full", "--data-dir", _source.Path);

        await RunAsync("restore", "--from", _source.Path, "--data-dir", _restored.Path, "--to", "latest");

        Assert.Contains("the-original-totp-key", await File.ReadAllTextAsync(Path.Combine(_restored.Path, "secrets.json")), StringComparison.Ordinal);
        Assert.DoesNotContain("backup_cipher_passphrase", await File.ReadAllTextAsync(Path.Combine(_restored.Path, "database-secrets.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_refuses_a_data_directory_that_already_holds_a_database()
    {
        await RunAsync("tenant", "create", "alpha", "--data-dir", _source.Path);
        await RunAsync("backup", "--type", "full", "--data-dir", _source.Path);

        var refused = await CliProcess.RunAsync("restore", "--from", _source.Path, "--data-dir", _source.Path);

        Assert.True(refused.ExitCode == 2, refused.Output + refused.Error);
        Assert.Contains("already holds a database", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_verify_passes_on_an_intact_repository_and_fails_once_a_byte_of_the_backup_changes()
    {
        await RunAsync("tenant", "create", "alpha", "--data-dir", _source.Path);
        await RunAsync("backup", "--type", "full", "--data-dir", _source.Path);
        var intact = await RunAsync("backup", "verify", "--data-dir", _source.Path);
        Assert.Contains("restores to exactly what it recorded", intact.Output, StringComparison.Ordinal);

        var bundle = Directory.GetFiles(Path.Combine(_source.Path, "backups", "backup", "invisible"), "invisible-files.tar*", SearchOption.AllDirectories)
            .First(path => !path.Contains("/latest/", StringComparison.Ordinal));
        var bytes = await File.ReadAllBytesAsync(bundle);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(bundle, bytes);
        var tampered = await CliProcess.RunAsync("backup", "verify", "--data-dir", _source.Path);

        Assert.True(tampered.ExitCode == 5, tampered.Output + tampered.Error);
    }

    public void Dispose()
    {
        _source.Dispose();
        _restored.Dispose();
    }

    private static async Task<IReadOnlyList<string>> TenantSlugsAsync(string dataDirectory)
    {
        await using var product = await LocalProduct.OpenAsync(dataDirectory, CancellationToken.None);
        var tenants = await product.Services.GetRequiredService<TenantDirectory>().ListAsync(CancellationToken.None);
        return tenants.Select(tenant => tenant.Slug).Order(StringComparer.Ordinal).ToList();
    }

    private static async Task<CliProcess.Result> RunAsync(params string[] arguments)
    {
        var result = await CliProcess.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"invisible {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Error}{result.Output}");
        return result;
    }
}
