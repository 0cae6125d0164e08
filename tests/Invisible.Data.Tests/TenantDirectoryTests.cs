using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Testing;

namespace Invisible.Data.Tests;

public sealed class TenantDirectoryTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private TestDatabase Database => fixture.Database;

    [Fact]
    public async Task A_created_tenant_is_found_by_its_slug_without_a_tenant_set()
    {
        var id = await Database.TenantDirectory.CreateAsync("acme", "Acme Corp", "EUR", CancellationToken.None);

        var found = await Database.TenantDirectory.FindBySlugAsync("acme", CancellationToken.None);

        Assert.Equal(new TenantRecord(id, "acme", "Acme Corp", "EUR"), found);
    }

    [Fact]
    public async Task An_unknown_slug_is_not_found()
    {
        Assert.Null(await Database.TenantDirectory.FindBySlugAsync("nobody-here", CancellationToken.None));
    }

    [Fact]
    public async Task A_taken_slug_is_refused_with_a_duplicate_slug_error()
    {
        await Database.TenantDirectory.CreateAsync("taken", "First", "USD", CancellationToken.None);

        var error = await Assert.ThrowsAsync<DuplicateTenantSlugException>(
            () => Database.TenantDirectory.CreateAsync("taken", "Second", "USD", CancellationToken.None));
        Assert.Equal("taken", error.Slug);
    }

    [Theory]
    [InlineData("A-Upper")]
    [InlineData("x")]
    [InlineData("-leading-hyphen")]
    [InlineData("spaces are bad")]
    public async Task An_invalid_slug_is_refused_naming_the_rule(string slug)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => Database.TenantDirectory.CreateAsync(slug, "Bad", "USD", CancellationToken.None));
        Assert.Contains("lower-case letters, digits and hyphens", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_tenant_gets_the_default_tolerances()
    {
        var tenant = await Database.CreateTenantAsync("tolerant");

        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        var tolerance = (await uow.Db.QueryToListAsync(
            row => (Price: row.GetFieldValue<decimal>(0), Quantity: row.GetFieldValue<decimal>(1), Total: row.GetFieldValue<decimal>(2)),
            "select price_tolerance_percent, quantity_tolerance_percent, total_tolerance from tolerances where vendor_id is null and version = 1", CancellationToken.None)).Single();

        Assert.Equal((2m, 0m, 0.05m), tolerance);
    }

    [Fact]
    public async Task The_application_role_sees_only_the_current_tenant_in_the_tenants_table()
    {
        var tenants = await Database.CreateTwoTenantsAsync();

        await using var uow = await Database.Tenants.BeginAsync(tenants.First.Id, CancellationToken.None);
        var visible = (await uow.Db.QueryToListAsync<Guid>("select id from tenants", CancellationToken.None)).ToList();

        Assert.Equal([tenants.First.Id], visible);
    }

    [Fact]
    public async Task A_unit_of_work_disposed_without_commit_rolls_back()
    {
        var tenant = await Database.CreateTenantAsync("rollback");
        await using (var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await uow.Db.ExecuteAsync(
                "insert into vendors (tenant_id, vendor_code, name) values (@TenantId, 'V1', 'Vendor')", new { uow.TenantId }, CancellationToken.None);
        }

        await using var check = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal(0, await check.Db.ExecuteAsync<int>("select count(*) from vendors", CancellationToken.None));
    }

    [Fact]
    public async Task A_committed_unit_of_work_is_visible_to_the_next_one()
    {
        var tenant = await Database.CreateTenantAsync("commit");
        await using (var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await uow.Db.ExecuteAsync(
                "insert into vendors (tenant_id, vendor_code, name) values (@TenantId, 'V1', 'Vendor')", new { uow.TenantId }, CancellationToken.None);
            await uow.CommitAsync(CancellationToken.None);
        }

        await using var check = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal(1, await check.Db.ExecuteAsync<int>("select count(*) from vendors", CancellationToken.None));
    }
}
