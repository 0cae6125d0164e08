using LinqToDB.Data;
using Invisible.Server.Database;
using Invisible.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Server.Tests;

/// <summary>Start-up against a configured database whose application role could get round row-level security.</summary>
public sealed class ExternalDatabaseRoleTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Theory]
    [InlineData("SUPERUSER", "is a superuser")]
    [InlineData("BYPASSRLS", "has BYPASSRLS")]
    public async Task Start_up_refuses_an_application_role_that_is_exempt_from_row_level_security(string attribute, string problem)
    {
        var role = $"unfit_app_{Guid.NewGuid():N}"[..24];
        await ExecuteAsSuperuserAsync($"create role {role} login {attribute} password 'unfit-app-password'; {GrantConnect(role)}");

        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(role));

        Assert.Contains($"'{role}'", refusal.Message, StringComparison.Ordinal);
        Assert.Contains(problem, refusal.Message, StringComparison.Ordinal);
        await ExecuteAsSuperuserAsync($"drop owned by {role}; drop role {role}");
    }

    [Fact]
    public async Task Start_up_refuses_an_application_role_that_owns_a_table()
    {
        var role = $"owner_app_{Guid.NewGuid():N}"[..24];
        await ExecuteAsSuperuserAsync(
            $"create role {role} login password 'unfit-app-password'; {GrantConnect(role)}; create table public.{role}_t (id int); alter table public.{role}_t owner to {role}");

        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(role));

        Assert.Contains("owns 1 table(s)", refusal.Message, StringComparison.Ordinal);
        await ExecuteAsSuperuserAsync($"drop owned by {role}; drop role {role}");
    }

    [Fact]
    public async Task Start_up_accepts_the_provisioned_application_role()
    {
        await using var runtime = await StartAsync(appConnectionString: fixture.Database.AppConnectionString);

        Assert.Null(runtime.Cluster);
    }

    private Task<DatabaseRuntime> StartAsync(string? role = null, string? appConnectionString = null)
    {
        var app = appConnectionString
            ?? new NpgsqlConnectionStringBuilder(fixture.Database.AppConnectionString) { Username = role, Password = "unfit-app-password" }.ConnectionString;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = fixture.Database.OwnerConnectionString,
            ["ConnectionStrings:PostgresApp"] = app,
        }).Build();
        return DatabaseRuntime.StartAsync(configuration, Path.GetTempPath(), NullLoggerFactory.Instance, CancellationToken.None);
    }

    private string GrantConnect(string role) => $"grant connect on database \"{fixture.Database.Name}\" to {role}";

    private async Task ExecuteAsSuperuserAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.SuperuserConnectionString);
        await connection.Linq().ExecuteAsync(sql, CancellationToken.None);
    }
}
