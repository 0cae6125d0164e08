using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.SampleData;
using Invisible.Server.Database;
using Invisible.Server.Hosting;
using Invisible.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Invisible.Cli.Tests;

/// <summary>
/// <c>invisible verify</c> finds what it promises to find: each test breaks one invariant behind the product's back (a byte
/// of a kept file, a decision's line as the owner role, a policy that shows one tenant another's rows) and the real
/// process must exit 5 naming that invariant and the ids involved.
/// </summary>
public sealed class VerifyCommandTests(VerifyCommandTests.TwoTenants tenants) : IClassFixture<VerifyCommandTests.TwoTenants>
{
    [Fact]
    public async Task A_kept_file_with_one_byte_changed_breaks_kept_files_match_naming_the_import()
    {
        var (importId, prefix) = await tenants.QueryAsync<(Guid, string)>(
            tenants.Alpha, "select id, content_blob from imports where kind = 'invoices' and content_blob is not null");
        var firstChunk = Directory.GetFiles(Path.Combine(tenants.DataDirectory, "blobs", prefix)).Order(StringComparer.Ordinal).First();
        var bytes = await File.ReadAllBytesAsync(firstChunk);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(firstChunk, bytes);

        var verified = await CliProcess.RunAsync("verify", "--tenant", "alpha", "--data-dir", tenants.DataDirectory);

        Assert.True(verified.ExitCode == 5, verified.Output + verified.Error);
        Assert.Contains("kept-files-match", verified.Error, StringComparison.Ordinal);
        Assert.Contains("✗ kept-files-match", verified.Output, StringComparison.Ordinal);
        Assert.Contains($"import {importId}", verified.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_line_decision_deleted_by_the_owner_breaks_decisions_have_evidence_naming_the_decision()
    {
        var decisionId = await tenants.AsOwnerAsync<Guid>(
            tenants.Alpha, "delete from line_decisions where id = (select id from line_decisions order by id limit 1) returning match_decision_id");

        var verified = await CliProcess.RunAsync("verify", "--data-dir", tenants.DataDirectory);

        Assert.True(verified.ExitCode == 5, verified.Output + verified.Error);
        Assert.Contains("decisions-have-evidence", verified.Error, StringComparison.Ordinal);
        Assert.Contains($"decision {decisionId}", verified.Output, StringComparison.Ordinal);
        Assert.Contains("line decisions for", verified.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_policy_that_shows_another_tenants_vendors_breaks_tenant_isolation_naming_the_table()
    {
        await tenants.ExecuteAsOwnerAsync(tenants.Alpha, "create policy verify_test_leak on vendors for select using (true)");
        try
        {
            var verified = await CliProcess.RunAsync("verify", "--tenant", "alpha", "--data-dir", tenants.DataDirectory);

            Assert.True(verified.ExitCode == 5, verified.Output + verified.Error);
            Assert.Contains("tenant-isolation", verified.Error, StringComparison.Ordinal);
            Assert.Contains("table vendors: ", verified.Output, StringComparison.Ordinal);
            Assert.Contains(tenants.Beta.ToString(), verified.Output, StringComparison.Ordinal);
        }
        finally
        {
            await tenants.ExecuteAsOwnerAsync(tenants.Alpha, "drop policy verify_test_leak on vendors");
        }
    }

    [Fact]
    public async Task An_unknown_tenant_is_a_usage_error()
    {
        var verified = await CliProcess.RunAsync("verify", "--tenant", "nobody", "--data-dir", tenants.DataDirectory);

        Assert.True(verified.ExitCode == 2, verified.Output + verified.Error);
        Assert.Contains("nobody", verified.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two tenants on one data directory: alpha with a small generated tenant imported and reconciled, beta with its vendors.
    /// Checked clean by <c>verify</c> before any test breaks something.
    /// </summary>
    public sealed class TwoTenants : IAsyncLifetime
    {
        private readonly TemporaryDirectory _directory = new("invisible-verify-");
        private LocalProduct? _product;

        public string DataDirectory => Path.Combine(_directory.Path, "data");

        public Guid Alpha { get; private set; }

        public Guid Beta { get; private set; }

        public async Task InitializeAsync()
        {
            var files = Path.Combine(_directory.Path, "generated");
            await CanonicalCsvWriter.WriteAsync(new TenantDataGenerator(5).Generate(new GeneratorOptions { Invoices = 80 }), files, CancellationToken.None);
            await RunAsync("tenant", "create", "alpha");
            await RunAsync("tenant", "create", "beta");

            // Held for the tests' owner-role statements; every process attaches to the cluster it keeps running.
            _product = await LocalProduct.OpenAsync(DataDirectory, CancellationToken.None);
            var directory = _product.Services.GetRequiredService<TenantDirectory>();
            Alpha = (await directory.FindBySlugAsync("alpha", CancellationToken.None))!.Id;
            Beta = (await directory.FindBySlugAsync("beta", CancellationToken.None))!.Id;

            await RunAsync("import", "vendors", Path.Combine(files, "vendors.csv"), "--tenant", "alpha");
            await RunAsync("import", "purchase-orders", Path.Combine(files, "purchase_orders.csv"), "--tenant", "alpha");
            await RunAsync("import", "receipts", Path.Combine(files, "receipts.csv"), "--tenant", "alpha");
            await RunAsync("import", "invoices", Path.Combine(files, "invoices.csv"), "--tenant", "alpha");
            await RunAsync("reconcile", "--tenant", "alpha");
            await RunAsync("import", "vendors", Path.Combine(files, "vendors.csv"), "--tenant", "beta");

            var clean = await RunAsync("verify");
            foreach (var name in new[] { "imports-whole", "kept-files-match", "decisions-have-evidence", "quantity-ledger", "exceptions-current", "tenant-isolation" })
            {
                Assert.Contains($"✓ {name}", clean.Output, StringComparison.Ordinal);
            }
        }

        /// <summary>A row of the tenant's, read as the application role.</summary>
        public async Task<T> QueryAsync<T>(Guid tenantId, string sql)
        {
            await using var unitOfWork = await _product!.Services.GetRequiredService<TenantDatabase>().BeginAsync(tenantId, CancellationToken.None);
            return (await unitOfWork.Db.RowsAsync<T>(sql)).Single();
        }

        /// <summary>
        /// Runs <paramref name="sql"/> as the owner role, which may do what the application role may not; row-level security is
        /// forced on the owner too, so it acts as the tenant.
        /// </summary>
        public Task<T> AsOwnerAsync<T>(Guid tenantId, string sql) =>
            AsOwnerAsync(tenantId, async (connection, transaction) => (await connection.Linq(transaction).RowsAsync<T>(sql)).Single());

        public Task ExecuteAsOwnerAsync(Guid tenantId, string sql) =>
            AsOwnerAsync(tenantId, (connection, transaction) => connection.Linq(transaction).ExecuteAsync(sql, CancellationToken.None));

        private async Task<T> AsOwnerAsync<T>(Guid tenantId, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> statement)
        {
            var owner = _product!.Services.GetRequiredService<DatabaseRuntime>().ConnectionStrings.OwnerConnectionString;
            await using var connection = new NpgsqlConnection(owner);
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await connection.Linq(transaction).ExecuteAsync("select set_config('app.tenant_id', @tenant, true)", new { tenant = tenantId.ToString() }, CancellationToken.None);
            var result = await statement(connection, transaction);
            await transaction.CommitAsync();
            return result;
        }

        private async Task<CliProcess.Result> RunAsync(params string[] arguments)
        {
            var result = await CliProcess.RunAsync([.. arguments, "--data-dir", DataDirectory]);
            Assert.True(result.ExitCode == 0, $"`invisible {string.Join(' ', arguments)}` exited {result.ExitCode}:\n{result.Output}\n{result.Error}");
            return result;
        }

        public async Task DisposeAsync()
        {
            if (_product is not null)
            {
                await _product.DisposeAsync();
            }

            _directory.Dispose();
        }
    }
}
