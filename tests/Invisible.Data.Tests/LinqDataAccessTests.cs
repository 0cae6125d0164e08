using Invisible.Testing;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace Invisible.Data.Tests;

public sealed class LinqDataAccessTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private TestDatabase Database => fixture.Database;

    [Table("vendors")]
    private sealed class VendorRow
    {
        [Column("tenant_id")] public Guid TenantId { get; set; }
        [Column("vendor_code")] public string Code { get; set; } = "";
        [Column("name")] public string Name { get; set; } = "";
    }

    [Fact]
    public async Task Linq_queries_of_a_unit_of_work_see_its_own_uncommitted_rows_and_no_other_tenants()
    {
        var tenants = await Database.CreateTwoTenantsAsync();
        await using (var other = await Database.Tenants.BeginAsync(tenants.Second.Id, CancellationToken.None))
        {
            await other.Db.InsertAsync(new VendorRow { TenantId = other.TenantId, Code = "THEIRS", Name = "Other tenant's vendor" });
            await other.CommitAsync(CancellationToken.None);
        }

        await using var uow = await Database.Tenants.BeginAsync(tenants.First.Id, CancellationToken.None);
        await uow.Db.InsertAsync(new VendorRow { TenantId = uow.TenantId, Code = "OURS", Name = "Our vendor" });

        var visible = await uow.Db.GetTable<VendorRow>().Select(v => v.Code).ToListAsync();

        Assert.Equal(["OURS"], visible);
    }

    [Fact]
    public async Task Rows_written_through_linq_roll_back_with_the_unit_of_work()
    {
        var tenant = await Database.CreateTenantAsync("linq-rollback");
        await using (var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await uow.Db.InsertAsync(new VendorRow { TenantId = uow.TenantId, Code = "GONE", Name = "Never committed" });
        }

        await using var check = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal(0, await check.Db.GetTable<VendorRow>().CountAsync());
    }
}
