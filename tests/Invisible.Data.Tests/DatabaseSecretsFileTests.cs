using System.Runtime.Versioning;
using Invisible.Data.Secrets;
using Invisible.Testing;

namespace Invisible.Data.Tests;

[UnsupportedOSPlatform("windows")]
public sealed class DatabaseSecretsFileTests : IDisposable
{
    private readonly TemporaryDirectory directory = new("invisible-secrets-");

    public void Dispose() => directory.Dispose();

    [Fact]
    public async Task A_secret_is_generated_once_and_then_reused_from_an_owner_only_file()
    {
        var secrets = DatabaseSecretsFile.InDataDirectory(directory.Path);

        var first = await secrets.GetOrCreateAsync(DatabaseSecretsFile.OwnerPassword, CancellationToken.None);
        var again = await DatabaseSecretsFile.InDataDirectory(directory.Path).GetOrCreateAsync(DatabaseSecretsFile.OwnerPassword, CancellationToken.None);
        var other = await secrets.GetOrCreateAsync(DatabaseSecretsFile.AppPassword, CancellationToken.None);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.True(first.Length >= 32);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secrets.Path));
    }

    [Fact]
    public async Task Concurrent_first_uses_agree_on_one_secret()
    {
        var values = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            DatabaseSecretsFile.InDataDirectory(directory.Path).GetOrCreateAsync(DatabaseSecretsFile.SuperuserPassword, CancellationToken.None)));

        Assert.Single(values.Distinct());
    }

    [Fact]
    public async Task A_corrupt_file_is_reported_with_its_path()
    {
        var secrets = DatabaseSecretsFile.InDataDirectory(directory.Path);
        await File.WriteAllTextAsync(secrets.Path, "not json");

        var failure = await Assert.ThrowsAsync<InvalidDataException>(() => secrets.GetOrCreateAsync("x", CancellationToken.None));

        Assert.Contains(secrets.Path, failure.Message, StringComparison.Ordinal);
    }
}
