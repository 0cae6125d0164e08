namespace Invisible.Cli.Tests;

public sealed class TenantCommandTests : IDisposable
{
    private readonly Invisible.Testing.TemporaryDirectory _directory = new("invisible-cli-tenant-");

    private string DataDirectory => _directory.Path;

    [Fact]
    public async Task Tenant_create_prints_the_administrators_login_and_refuses_a_taken_slug()
    {
        var created = await CliProcess.RunAsync("tenant", "create", "acme-gmbh", "--currency", "EUR", "--data-dir", DataDirectory);

        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("Tenant acme-gmbh created.", created.Output, StringComparison.Ordinal);
        Assert.Matches(@"Administrator: admin@acme-gmbh\.invisible\.local  password: [A-Za-z0-9]{20} ", created.Output);

        var again = await CliProcess.RunAsync("tenant", "create", "acme-gmbh", "--data-dir", DataDirectory);

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("acme-gmbh", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tenant_create_names_the_rule_an_invalid_slug_breaks()
    {
        var result = await CliProcess.RunAsync("tenant", "create", "Not A Slug", "--data-dir", DataDirectory);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("lower-case letters, digits and hyphens", result.Error, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();
}
