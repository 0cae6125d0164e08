using LinqToDB.Data;
using Invisible.Testing;
using Npgsql;

namespace Invisible.Data.Tests;

/// <summary>
/// The references of match and line decisions (migration 0008 checks them once per statement, not by foreign keys):
/// a decision may only reference rows its tenant has, and what a decision references cannot be deleted or re-keyed.
/// </summary>
public sealed class DecisionReferenceTests(DecisionReferenceTests.Documents documents) : IClassFixture<DecisionReferenceTests.Documents>
{
    [Fact]
    public async Task Decisions_that_reference_their_tenants_rows_are_stored()
    {
        var mine = documents.Of(documents.Tenants.First.Id);
        await using var uow = await documents.Database.Tenants.BeginAsync(mine.Tenant, CancellationToken.None);
        var decision = await InsertDecisionAsync(uow, mine, mine);
        await InsertLineDecisionAsync(uow, mine, decision, mine);

        Assert.Equal(1, await uow.Db.ExecuteAsync<long>(
            "select count(*) from line_decisions where match_decision_id = @decision", new { decision }, CancellationToken.None));
    }

    [Theory]
    [InlineData("invoice_id", "invoice")]
    [InlineData("vendor_id", "vendor")]
    [InlineData("purchase_order_id", "purchase order")]
    [InlineData("duplicate_of", "original of a duplicate")]
    [InlineData("tolerance_id", "tolerance")]
    public async Task A_decision_referencing_another_tenants_row_fails_its_whole_statement(string column, string named)
    {
        var mine = documents.Of(documents.Tenants.First.Id);
        var theirs = documents.Of(documents.Tenants.Second.Id);
        await using var uow = await documents.Database.Tenants.BeginAsync(mine.Tenant, CancellationToken.None);
        var before = await uow.Db.ExecuteAsync<long>("select count(*) from match_decisions", CancellationToken.None);
        await uow.Db.ExecuteAsync("savepoint before_insert", CancellationToken.None);

        // Two rows in one statement, the second with one reference swapped for the other tenant's row of that kind.
        var refused = await Assert.ThrowsAsync<PostgresException>(() => uow.Db.ExecuteAsync(
            $$"""
            insert into match_decisions (tenant_id, invoice_id, run_id, engine_version, invoice_status, vendor_id, purchase_order_id,
                                         duplicate_of, tolerance_id, explanation, evidence)
            select @tenant, invoice_id, gen_random_uuid(), 'test', 'matched', vendor_id, purchase_order_id, duplicate_of, tolerance_id, '{}'::jsonb, '{}'::json
            from (values (@invoice, @vendor, @po, @invoice, @tolerance), (@invoice, @vendor, @po, @invoice, @tolerance)) as mine
                 (invoice_id, vendor_id, purchase_order_id, duplicate_of, tolerance_id)
            union all
            select @tenant, {{Swap("invoice_id", "@theirInvoice")}}, gen_random_uuid(), 'test', 'matched', {{Swap("vendor_id", "@theirVendor")}},
                   {{Swap("purchase_order_id", "@theirPo")}}, {{Swap("duplicate_of", "@theirInvoice")}}, {{Swap("tolerance_id", "@theirTolerance")}}, '{}'::jsonb, '{}'::json
            from (values (@invoice, @vendor, @po, @invoice, @tolerance)) as mine (invoice_id, vendor_id, purchase_order_id, duplicate_of, tolerance_id)
            """, new
            {
                tenant = mine.Tenant, invoice = mine.Invoice, vendor = mine.Vendor, po = mine.PurchaseOrder, tolerance = mine.Tolerance,
                theirInvoice = theirs.Invoice, theirVendor = theirs.Vendor, theirPo = theirs.PurchaseOrder, theirTolerance = theirs.Tolerance,
            }, CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
        Assert.Contains(named, refused.MessageText, StringComparison.Ordinal);
        await uow.Db.ExecuteAsync("rollback to savepoint before_insert", CancellationToken.None);
        Assert.Equal(before, await uow.Db.ExecuteAsync<long>("select count(*) from match_decisions", CancellationToken.None));

        string Swap(string name, string other) => name == column ? other : name;
    }

    [Theory]
    [InlineData("match_decision_id", "match decision")]
    [InlineData("invoice_line_id", "invoice line")]
    [InlineData("purchase_order_line_id", "purchase order line")]
    public async Task A_line_decision_referencing_another_tenants_row_is_refused(string column, string named)
    {
        var mine = documents.Of(documents.Tenants.First.Id);
        var theirs = documents.Of(documents.Tenants.Second.Id);
        await using var uow = await documents.Database.Tenants.BeginAsync(mine.Tenant, CancellationToken.None);
        var decision = await InsertDecisionAsync(uow, mine, mine);
        var references = new Dictionary<string, Guid>
        {
            ["match_decision_id"] = decision, ["invoice_line_id"] = mine.InvoiceLine, ["purchase_order_line_id"] = mine.PurchaseOrderLine,
        };
        references[column] = column switch
        {
            "match_decision_id" => theirs.Decision,
            "invoice_line_id" => theirs.InvoiceLine,
            _ => theirs.PurchaseOrderLine,
        };

        var refused = await Assert.ThrowsAsync<PostgresException>(() => uow.Db.ExecuteAsync(
            """
            insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
            values (@tenant, @decision, @invoiceLine, @poLine, 'matched', '{}')
            """, new
            {
                tenant = mine.Tenant, decision = references["match_decision_id"], invoiceLine = references["invoice_line_id"],
                poLine = references["purchase_order_line_id"],
            }, CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
        Assert.Contains(named, refused.MessageText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("delete from invoices where id = @invoice")]
    [InlineData("delete from invoice_lines where id = @invoiceLine")]
    [InlineData("delete from vendors where id = @vendor")]
    [InlineData("delete from purchase_orders where id = @po")]
    [InlineData("delete from purchase_order_lines where id = @poLine")]
    [InlineData("delete from tolerances where id = @tolerance")]
    [InlineData("delete from match_decisions where id = @decision")]
    [InlineData("update invoices set id = gen_random_uuid() where id = @invoice")]
    public async Task What_a_decision_references_cannot_be_deleted_or_rekeyed_even_by_the_superuser(string statement)
    {
        var mine = documents.Of(documents.Tenants.First.Id);
        await using var superuser = new NpgsqlConnection(documents.Database.SuperuserConnectionString);
        await superuser.OpenAsync();
        await using var transaction = await superuser.BeginTransactionAsync();

        var refused = await Assert.ThrowsAsync<PostgresException>(() => superuser.Linq(transaction).ExecuteAsync(
            statement, new
            {
                invoice = mine.Invoice, invoiceLine = mine.InvoiceLine, vendor = mine.Vendor, po = mine.PurchaseOrder,
                poLine = mine.PurchaseOrderLine, tolerance = mine.Tolerance, decision = mine.Decision,
            }, CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
        Assert.Contains("is referenced by", refused.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undecided_invoice_can_still_be_deleted_and_a_decided_one_updated()
    {
        var mine = documents.Of(documents.Tenants.First.Id);
        await using var superuser = new NpgsqlConnection(documents.Database.SuperuserConnectionString);
        await superuser.OpenAsync();
        await using var transaction = await superuser.BeginTransactionAsync();

        Assert.Equal(1, await superuser.Linq(transaction).ExecuteAsync("delete from invoices where id = @undecided", new { undecided = mine.UndecidedInvoice }, CancellationToken.None));
        Assert.Equal(1, await superuser.Linq(transaction).ExecuteAsync("update invoices set status = 'matched' where id = @invoice", new { invoice = mine.Invoice }, CancellationToken.None));
    }

    private static Task<Guid> InsertDecisionAsync(Data.Tenancy.TenantUnitOfWork uow, Seeded tenant, Seeded references) =>
        uow.Db.ExecuteAsync<Guid>(
            """
            insert into match_decisions (tenant_id, invoice_id, run_id, engine_version, invoice_status, vendor_id, purchase_order_id,
                                         tolerance_id, explanation, evidence)
            values (@tenant, @invoice, gen_random_uuid(), 'test', 'matched', @vendor, @po, @tolerance, '{}', '{}')
            returning id
            """, new
            {
                tenant = tenant.Tenant, invoice = references.Invoice, vendor = references.Vendor, po = references.PurchaseOrder,
                tolerance = references.Tolerance,
            }, CancellationToken.None);

    private static Task<int> InsertLineDecisionAsync(Data.Tenancy.TenantUnitOfWork uow, Seeded tenant, Guid decision, Seeded references) =>
        uow.Db.ExecuteAsync(
            """
            insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
            values (@tenant, @decision, @invoiceLine, @poLine, 'matched', '{}')
            """, new { tenant = tenant.Tenant, decision, invoiceLine = references.InvoiceLine, poLine = references.PurchaseOrderLine }, CancellationToken.None);

    /// <summary>The ids of one tenant's documents and of the decision (with a line decision) that references them.</summary>
    public sealed record Seeded(
        Guid Tenant, Guid Vendor, Guid PurchaseOrder, Guid PurchaseOrderLine, Guid Invoice, Guid InvoiceLine, Guid Tolerance, Guid Decision,
        Guid UndecidedInvoice);

    /// <summary>Two tenants, each with a vendor, a PO, a decided and an undecided invoice, inserted as the product would (application role).</summary>
    public sealed class Documents : IAsyncLifetime
    {
        private const string SeedSql =
            """
            do $$
            declare
                t uuid := current_setting('app.tenant_id')::uuid;
                imp uuid; ven uuid; po uuid; pol uuid; inv uuid; invl uuid; tol uuid; dec uuid;
            begin
                insert into imports (tenant_id, kind, file_name, content_sha256)
                    values (t, 'invoices', 'invoices.csv', sha256(convert_to(gen_random_uuid()::text, 'UTF8'))) returning id into imp;
                insert into vendors (tenant_id, vendor_code, name, currency) values (t, 'V-1', 'Summit', 'USD') returning id into ven;
                insert into purchase_orders (tenant_id, po_number, po_number_normalized, vendor_id, order_date, currency)
                    values (t, 'PO-1', '1', ven, '2026-02-01', 'USD') returning id into po;
                insert into purchase_order_lines (tenant_id, purchase_order_id, line_no, description, quantity, unit_price)
                    values (t, po, 1, 'Widget', 10, 2.5) returning id into pol;
                insert into invoices (tenant_id, import_id, import_position, invoice_number, invoice_number_normalized,
                                      printed_vendor_name, invoice_date, currency, invoice_total)
                    values (t, imp, 1, 'INV-1', '1', 'Summit', '2026-02-05', 'USD', 25) returning id into inv;
                insert into invoice_lines (tenant_id, invoice_id, line_no, description, quantity, unit_price, line_amount, source_line)
                    values (t, inv, 1, 'Widget', 10, 2.5, 25, 2) returning id into invl;
                insert into invoices (tenant_id, import_id, import_position, invoice_number, invoice_number_normalized,
                                      printed_vendor_name, invoice_date, currency, invoice_total)
                    values (t, imp, 2, 'INV-2', '2', 'Summit', '2026-02-06', 'USD', 25);
                insert into tolerances (tenant_id, vendor_id, version, price_tolerance_percent, quantity_tolerance_percent, total_tolerance)
                    values (t, ven, 1, 1, 0, 0.01) returning id into tol;
                insert into match_decisions (tenant_id, invoice_id, run_id, engine_version, invoice_status, vendor_id, purchase_order_id,
                                             duplicate_of, tolerance_id, explanation, evidence)
                    values (t, inv, gen_random_uuid(), 'test', 'matched', ven, po, inv, tol, '{}', '{}') returning id into dec;
                insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
                    values (t, dec, invl, pol, 'matched', '{}');
            end $$
            """;

        private TestDatabase? database;
        private Dictionary<Guid, Seeded> seeded = [];

        public TestDatabase Database => database!;

        public TwoTenants Tenants { get; private set; } = null!;

        public Seeded Of(Guid tenant) => seeded[tenant];

        public async Task InitializeAsync()
        {
            database = await TestPostgres.CreateDatabaseAsync();
            Tenants = await database.CreateTwoTenantsAsync();
            foreach (var tenant in new[] { Tenants.First.Id, Tenants.Second.Id })
            {
                await using var uow = await database.Tenants.BeginAsync(tenant, CancellationToken.None);
                await uow.Db.ExecuteAsync(SeedSql, CancellationToken.None);
                seeded[tenant] = (await uow.Db.QueryToListAsync<Seeded>(
                    """
                    select i.tenant_id as Tenant, v.id as Vendor, p.id as PurchaseOrder, pl.id as PurchaseOrderLine, i.id as Invoice,
                           il.id as InvoiceLine, d.tolerance_id as Tolerance, d.id as Decision,
                           (select id from invoices where invoice_number = 'INV-2') as UndecidedInvoice
                    from match_decisions d
                    join invoices i on i.id = d.invoice_id
                    join invoice_lines il on il.invoice_id = i.id
                    join vendors v on v.id = d.vendor_id
                    join purchase_orders p on p.id = d.purchase_order_id
                    join purchase_order_lines pl on pl.purchase_order_id = p.id
                    """, CancellationToken.None)).Single();
                await uow.CommitAsync(CancellationToken.None);
            }
        }

        public async Task DisposeAsync()
        {
            if (database is not null)
            {
                await database.DisposeAsync();
            }
        }
    }
}
