using System.Diagnostics;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Ingestion.Canonical;
using Invisible.Server.Hosting;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Invisible.Cli.Tests;

/// <summary>
/// The all-or-nothing promise against the harshest failure: the real <c>invisible import</c> process SIGKILLed while its
/// binary COPY is streaming rows, on a data directory whose cluster this test keeps running (as <c>up</c> would).
/// </summary>
public sealed class ImportKilledTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("invisible-cli-kill-");

    private string DataDirectory => Path.Combine(_directory.Path, "data");

    [Fact]
    public async Task An_import_killed_during_copy_leaves_nothing_visible_and_a_rerun_stores_exact_counts_and_removes_the_killed_ones_temporary_file()
    {
        var files = Path.Combine(_directory.Path, "generated");
        var generated = await CliProcess.RunAsync("bench-data", "--invoices", "50000", "--seed", "3", "--out", files);
        Assert.True(generated.ExitCode == 0, generated.Error);
        var created = await CliProcess.RunAsync("tenant", "create", "kill", "--data-dir", DataDirectory);
        Assert.True(created.ExitCode == 0, created.Error);
        var invoicesFile = Path.Combine(files, "invoices.csv");
        var expected = await ExpectedCountsAsync(invoicesFile);

        await using var product = await LocalProduct.OpenAsync(DataDirectory, CancellationToken.None);
        var tenantId = (await product.Services.GetRequiredService<TenantDirectory>().FindBySlugAsync("kill", CancellationToken.None))!.Id;
        var appDataSource = product.Services.GetRequiredService<NpgsqlDataSource>(); // the application role's, as TenantDatabase uses

        using (var import = CliProcess.Start("import", "invoices", invoicesFile, "--tenant", "kill", "--data-dir", DataDirectory))
        {
            var output = import.StandardOutput.ReadToEndAsync();
            var seen = new List<string>();
            var copying = await WaitForCopyAsync(appDataSource, import, seen);
            Assert.True(copying, $"the import never reached its COPY; sessions seen: {string.Join(Environment.NewLine, seen)}");
            import.Kill(); // SIGKILL: no finally block, no rollback sent; PostgreSQL must notice the dead client itself
            await import.WaitForExitAsync();
            Assert.True(import.ExitCode != 0, $"the import finished before it could be killed; sessions seen: {string.Join(Environment.NewLine, seen)}");
        }

        await WaitUntilNoCopyAsync(appDataSource);
        Assert.Equal((0L, 0L, 0L), await CountsAsync(product, tenantId));
        // The killed process could not delete its copy of the file: it is in the data directory, not the system temp directory.
        var temporaryFolder = Path.Combine(DataDirectory, "tmp");
        var leftover = Assert.Single(Directory.GetFiles(temporaryFolder));

        var rerun = await CliProcess.RunAsync("import", "invoices", invoicesFile, "--tenant", "kill", "--data-dir", DataDirectory);

        Assert.True(rerun.ExitCode == 0, rerun.Output + rerun.Error);
        Assert.Equal((1L, expected.Invoices, expected.Lines), await CountsAsync(product, tenantId));
        Assert.False(File.Exists(leftover), $"{leftover} was not swept");
        Assert.Empty(Directory.GetFiles(temporaryFolder)); // nor did the rerun leave its own
    }

    private static async Task<(long Invoices, long Lines)> ExpectedCountsAsync(string invoicesFile)
    {
        await using var content = File.OpenRead(invoicesFile);
        var parsed = await ImportReader.ReadAllAsync<InvoiceLineRow>(
            content, "invoices.csv", ImportOptions.Default, InMemoryReferenceData.Empty, CancellationToken.None);
        Assert.True(parsed.Result.Accepted);
        return (parsed.Rows.Max(row => row.InvoicePosition), parsed.Rows.Count);
    }

    /// <summary>True once the import's session is streaming rows into its staging table; false if the process ended first.</summary>
    private static async Task<bool> WaitForCopyAsync(NpgsqlDataSource appDataSource, Process import, List<string> seen)
    {
        // Polled without pause, outside any transaction (a transaction would keep reading one snapshot of the statistics),
        // as the application role the import runs as (only sessions of one's own role show their query).
        await using var connection = await appDataSource.OpenConnectionAsync();
        var deadline = Stopwatch.StartNew();
        while (!import.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(3))
        {
            var sessions = await ActiveSessionsAsync(connection);
            if (sessions.Count > 0 && (seen.Count == 0 || seen[^1] != string.Join(" | ", sessions)))
            {
                seen.Add(string.Join(" | ", sessions));
            }

            if (sessions.Any(session => session.StartsWith("active: copy import_stage", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task WaitUntilNoCopyAsync(NpgsqlDataSource appDataSource)
    {
        await using var connection = await appDataSource.OpenConnectionAsync();
        var deadline = Stopwatch.StartNew();
        while ((await ActiveSessionsAsync(connection)).Any(session => session.Contains("copy import_stage", StringComparison.Ordinal)))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(1), "PostgreSQL kept the dead client's COPY open");
            await Task.Delay(50);
        }
    }

    private static async Task<List<string>> ActiveSessionsAsync(NpgsqlConnection connection) =>
        (await connection.Linq().QueryToListAsync<string>(
            """
            select coalesce(usename, '?') || ' ' || coalesce(state, '?') || ': ' || left(coalesce(query, ''), 30)
            from pg_stat_activity
            where pid <> pg_backend_pid() and datname = current_database() and backend_type = 'client backend'
            """, CancellationToken.None)).Select(session => session[(session.IndexOf(' ', StringComparison.Ordinal) + 1)..]).ToList();

    private static async Task<(long Imports, long Invoices, long Lines)> CountsAsync(LocalProduct product, Guid tenantId)
    {
        await using var unitOfWork = await product.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenantId, CancellationToken.None);
        return (await unitOfWork.Db.QueryToListAsync(
            row => (row.GetFieldValue<long>(0), row.GetFieldValue<long>(1), row.GetFieldValue<long>(2)),
            "select (select count(*) from imports), (select count(*) from invoices), (select count(*) from invoice_lines)", CancellationToken.None)).Single();
    }

    public void Dispose() => _directory.Dispose();
}
