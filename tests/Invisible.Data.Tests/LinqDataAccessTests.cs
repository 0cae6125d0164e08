using Invisible.Data.Access;
using Invisible.Testing;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Npgsql;

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

    [Fact]
    public async Task A_linq_query_on_an_application_connection_without_a_tenant_sees_no_rows()
    {
        var tenant = await Database.CreateTenantAsync();
        await using (var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None))
        {
            await uow.Db.InsertAsync(new VendorRow { TenantId = uow.TenantId, Code = "HIDDEN", Name = "Seen only by its tenant" });
            await uow.CommitAsync(CancellationToken.None);
        }

        await using var connection = await Database.AppDataSource.OpenConnectionAsync();
        await using var db = ProductData.On(connection);

        Assert.Equal(0, await db.GetTable<VendorRow>().CountAsync());
    }

    [Fact]
    public async Task Raw_sql_parameters_and_columns_round_trip_as_the_product_stores_them()
    {
        await using var connection = await Database.AppDataSource.OpenConnectionAsync();
        await using var db = ProductData.On(connection);
        var sent = new RoundTrip(
            Guid.NewGuid(), 1234.5600m, new DateOnly(2026, 2, 28), new DateTimeOffset(2026, 3, 1, 12, 30, 45, 123, TimeSpan.Zero),
            new DateTime(2026, 3, 1, 12, 30, 45, DateTimeKind.Utc), TimeSpan.FromMinutes(15), ["a", "b"], [Guid.NewGuid()], null, "{\"a\": 1}");

        var received = (await db.QueryToListAsync<RoundTrip>(
            """
            select @id as Id, @amount::numeric(19,4) as Amount, @day::date as Day, @at::timestamptz as At, @utc::timestamptz as Utc,
                   @lockFor::interval as LockFor, @tags::text[] as Tags, @ids::uuid[] as Ids, @missing::text as Missing,
                   (@document::jsonb)::text as Document
            """,
            new
            {
                id = sent.Id, amount = sent.Amount, day = sent.Day, at = sent.At, utc = sent.Utc, lockFor = sent.LockFor, tags = sent.Tags,
                ids = sent.Ids, missing = sent.Missing, document = sent.Document,
            },
            CancellationToken.None)).Single();

        Assert.Equal(
            sent with { Tags = [], Ids = [] },
            received with { Tags = [], Ids = [], At = received.At.ToUniversalTime(), Utc = DateTime.SpecifyKind(received.Utc, DateTimeKind.Utc) });
        Assert.Equal(sent.Tags, received.Tags);
        Assert.Equal(sent.Ids, received.Ids);
    }

    [Fact]
    public async Task Database_errors_reach_callers_as_the_npgsql_exception_with_its_sql_state()
    {
        var tenant = await Database.CreateTenantAsync();
        await using var uow = await Database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        await uow.Db.InsertAsync(new VendorRow { TenantId = uow.TenantId, Code = "TWICE", Name = "First" });

        var refused = await Assert.ThrowsAsync<PostgresException>(() =>
            uow.Db.InsertAsync(new VendorRow { TenantId = uow.TenantId, Code = "TWICE", Name = "Second" }));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, refused.SqlState);
    }

    public sealed record RoundTrip(
        Guid Id, decimal Amount, DateOnly Day, DateTimeOffset At, DateTime Utc, TimeSpan LockFor, string[] Tags, Guid[] Ids, string? Missing,
        string Document);
}
