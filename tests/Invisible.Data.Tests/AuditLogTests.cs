using LinqToDB.Data;
using Invisible.Data.Audit;
using Invisible.Testing;
using Npgsql;

namespace Invisible.Data.Tests;

public sealed class AuditLogTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private TestDatabase Database => fixture.Database;

    [Fact]
    public async Task Appended_entries_are_numbered_and_each_links_to_the_previous_hash()
    {
        var tenant = await Database.CreateTenantAsync("chain");
        await AppendAsync(tenant.Id, 3);

        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        var entries = (await uow.Db.QueryToListAsync(
            row => (Seq: row.GetFieldValue<long>(0), PrevHash: row.GetFieldValue<byte[]>(1), Hash: row.GetFieldValue<byte[]>(2)),
            "select seq, prev_hash, hash from audit_log order by seq", CancellationToken.None)).ToList();

        Assert.Equal([1L, 2L, 3L], entries.Select(entry => entry.Seq));
        Assert.Equal(new byte[32], entries[0].PrevHash);
        Assert.Equal(entries[0].Hash, entries[1].PrevHash);
        Assert.Equal(entries[1].Hash, entries[2].PrevHash);
        Assert.Equal(new AuditChainVerification(3, null), await AuditLog.VerifyChainAsync(uow, CancellationToken.None));
    }

    [Fact]
    public async Task Before_and_after_are_stored_as_json()
    {
        var tenant = await Database.CreateTenantAsync("json");
        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);

        var seq = await AuditLog.AppendAsync(uow, "user-1", "update", "tolerance", "42",
            new { PricePercent = 2m }, new { PricePercent = 3.5m }, "req-7", CancellationToken.None);

        var stored = (await uow.Db.QueryToListAsync(
            row => (Before: row.GetFieldValue<string>(0), After: row.GetFieldValue<string>(1), RequestId: row.GetFieldValue<string>(2)),
            "select before::text, after::text, request_id from audit_log where seq = @seq", new { seq }, CancellationToken.None)).Single();
        Assert.Equal(("{\"pricePercent\": 2}", "{\"pricePercent\": 3.5}", "req-7"), stored);
    }

    [Fact]
    public async Task Concurrent_appends_of_one_tenant_form_a_single_unbroken_chain()
    {
        var tenant = await Database.CreateTenantAsync("concurrent");

        await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => AppendAsync(tenant.Id, 1)));

        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal(new AuditChainVerification(12, null), await AuditLog.VerifyChainAsync(uow, CancellationToken.None));
    }

    [Fact]
    public async Task Each_tenant_has_its_own_chain()
    {
        var tenants = await Database.CreateTwoTenantsAsync();
        await AppendAsync(tenants.First.Id, 2);
        await AppendAsync(tenants.Second.Id, 1);

        await using var uow = await Database.Tenants.BeginAsync(tenants.Second.Id, CancellationToken.None);
        Assert.Equal(new AuditChainVerification(1, null), await AuditLog.VerifyChainAsync(uow, CancellationToken.None));
    }

    [Fact]
    public async Task A_tampered_entry_is_detected_by_verification()
    {
        var tenant = await Database.CreateTenantAsync("tampered");
        await AppendAsync(tenant.Id, 3);

        await AsSuperuserBypassingTriggersAsync("update audit_log set after = '{\"amount\": 1}' where tenant_id = @tenant and seq = 2", tenant.Id);

        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal(new AuditChainVerification(3, 2), await AuditLog.VerifyChainAsync(uow, CancellationToken.None));
    }

    [Fact]
    public async Task A_deleted_entry_is_detected_by_verification()
    {
        var tenant = await Database.CreateTenantAsync("deleted");
        await AppendAsync(tenant.Id, 3);

        await AsSuperuserBypassingTriggersAsync("delete from audit_log where tenant_id = @tenant and seq = 2", tenant.Id);

        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal(new AuditChainVerification(2, 3), await AuditLog.VerifyChainAsync(uow, CancellationToken.None));
    }

    [Theory]
    [InlineData("update audit_log set actor = 'someone else'")]
    [InlineData("delete from audit_log")]
    [InlineData("truncate audit_log")]
    public async Task The_application_role_cannot_change_audit_entries(string change)
    {
        var tenant = await Database.CreateTenantAsync();
        await AppendAsync(tenant.Id, 1);

        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => uow.Db.ExecuteAsync(change, CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.Contains("permission denied", refused.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Even_the_owner_cannot_change_audit_entries()
    {
        var tenant = await Database.CreateTenantAsync("owner");
        await AppendAsync(tenant.Id, 1);

        await using var owner = new NpgsqlConnection(Database.OwnerConnectionString);
        await owner.OpenAsync();
        await using var transaction = await owner.BeginTransactionAsync();
        await owner.Linq(transaction).ExecuteAsync("select set_config('app.tenant_id', @tenant, true)", new { tenant = tenant.Id.ToString() }, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<PostgresException>(
            () => owner.Linq(transaction).ExecuteAsync("update audit_log set actor = 'someone else'", CancellationToken.None));
        Assert.Contains("audit_log is append-only", refused.MessageText, StringComparison.Ordinal);
    }

    private async Task AppendAsync(Guid tenantId, int count)
    {
        await using var uow = await Database.Tenants.BeginAsync(tenantId, CancellationToken.None);
        for (var i = 0; i < count; i++)
        {
            await AuditLog.AppendAsync(uow, "user-1", "approve", "invoice", $"INV-{i}", null, new { Status = "approved", Amount = 100.5m + i },
                Guid.NewGuid().ToString(), CancellationToken.None);
        }

        await uow.CommitAsync(CancellationToken.None);
    }

    /// <summary>An attacker with superuser access: replica mode switches off ordinary triggers such as the append-only guard.</summary>
    private async Task AsSuperuserBypassingTriggersAsync(string sql, Guid tenantId)
    {
        await using var superuser = new NpgsqlConnection(Database.SuperuserConnectionString);
        await superuser.OpenAsync();
        await using var transaction = await superuser.BeginTransactionAsync();
        await superuser.Linq(transaction).ExecuteAsync("set local session_replication_role = replica", CancellationToken.None);
        Assert.Equal(1, await superuser.Linq(transaction).ExecuteAsync(sql, new { tenant = tenantId }, CancellationToken.None));
        await transaction.CommitAsync();
    }
}
