using System.Diagnostics;
using Invisible.Testing;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Cli.Tests.Operations;

/// <summary>
/// <c>invisible backup</c> with an external database (ConnectionStrings:Postgres, as docker-compose and managed PostgreSQL run
/// it): a pg_dump custom-format dump plus the blob store, restored with the real pg_restore as docs/operations.md says.
/// </summary>
public sealed class ExternalDatabaseBackupTests : IDisposable
{
    private readonly TemporaryDirectory _dataDirectory = new("invisible-external-backup-");

    [Fact]
    public async Task A_backup_of_an_external_database_is_a_dump_that_pg_restore_brings_back_with_its_tenants()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database.OwnerConnectionString,
            ["ConnectionStrings__PostgresApp"] = database.AppConnectionString,
            // The tenant tables force row-level security even on their owner: the dump runs as a role that bypasses it.
            ["Backup__DumpConnectionString"] = database.SuperuserConnectionString,
        };
        await RunAsync(environment, "tenant", "create", "alpha", "--data-dir", _dataDirectory.Path);

        await RunAsync(environment, "backup", "--data-dir", _dataDirectory.Path);
        var list = await RunAsync(environment, "backup", "list", "--data-dir", _dataDirectory.Path);
        var dump = Directory.GetFiles(Path.Combine(_dataDirectory.Path, "backups", "dumps"), "database.dump", SearchOption.AllDirectories).Single();
        var restoredName = $"{database.Name}_restored";
        await using var superuser = new NpgsqlConnection(database.SuperuserConnectionString);
        await superuser.Linq().ExecuteAsync($"create database \"{restoredName}\"", CancellationToken.None);
        try
        {
            var restoredConnection = new NpgsqlConnectionStringBuilder(database.SuperuserConnectionString) { Database = restoredName };
            await PgRestoreAsync(restoredConnection, dump);
            await using var restored = new NpgsqlConnection(restoredConnection.ConnectionString);
            var slugs = await restored.Linq().QueryToListAsync<string>("select slug from tenants order by slug", CancellationToken.None);

            var label = Path.GetFileName(Path.GetDirectoryName(dump))!;
            Assert.True(
                slugs.SequenceEqual(["alpha"]) && list.Output.Contains(label, StringComparison.Ordinal),
                $"restored tenants: {string.Join(", ", slugs)}; backup list: {list.Output}");
        }
        finally
        {
            await superuser.Linq().ExecuteAsync($"drop database if exists \"{restoredName}\" with (force)", CancellationToken.None);
        }
    }

    private static async Task PgRestoreAsync(NpgsqlConnectionStringBuilder connection, string dump)
    {
        var start = new ProcessStartInfo(Path.Combine(PostgresBinDirectory(), "pg_restore"))
        {
            ArgumentList = { "--exit-on-error", "--dbname", connection.Database!, dump },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.Environment["PGHOST"] = connection.Host;
        start.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PGUSER"] = connection.Username;
        start.Environment["PGPASSWORD"] = connection.Password ?? string.Empty;
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"pg_restore exited with {process.ExitCode}: {error}");
    }

    private static string PostgresBinDirectory() =>
        Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(folder => int.Parse(Path.GetFileName(folder), System.Globalization.CultureInfo.InvariantCulture))
            .Select(folder => Path.Combine(folder, "bin")).First(folder => File.Exists(Path.Combine(folder, "pg_restore")));

    private static async Task<CliProcess.Result> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var result = await CliProcess.RunAsync(environment, arguments);
        Assert.True(result.ExitCode == 0, $"invisible {string.Join(' ', arguments)} exited with {result.ExitCode}: {result.Output}{result.Error}");
        return result;
    }

    public void Dispose() => _dataDirectory.Dispose();
}
