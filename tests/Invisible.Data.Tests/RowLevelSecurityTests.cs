using LinqToDB.Data;
using Invisible.Testing;
using Npgsql;

namespace Invisible.Data.Tests;

/// <summary>
/// The isolation matrix at the SQL level, as the application role: both tenants have rows in every tenant-owned table
/// (enumerated from the catalog, so a new table without seed rows fails), and no statement of one tenant reaches the other's.
/// </summary>
public sealed class RowLevelSecurityTests(RowLevelSecurityTests.SeededTenants seeded) : IClassFixture<RowLevelSecurityTests.SeededTenants>
{
    [Fact]
    public void Every_tenant_owned_table_has_rows_of_both_tenants()
    {
        var missing = seeded.TenantOwnedTables
            .Where(table => seeded.RowCounts[(table, seeded.Tenants.First.Id)] == 0 || seeded.RowCounts[(table, seeded.Tenants.Second.Id)] == 0)
            .ToList();

        Assert.True(missing.Count == 0, $"Add seed rows (SeedSql) for: {string.Join(", ", missing)}");
        Assert.Contains("invoices", seeded.TenantOwnedTables);
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_rows_in_every_table()
    {
        var leaks = new List<string>();
        foreach (var table in seeded.TenantOwnedTables.Append("tenants"))
        {
            await using var uow = await seeded.Database.Tenants.BeginAsync(seeded.Tenants.First.Id, CancellationToken.None);
            var visibleTenants = (await uow.Db.QueryToListAsync<Guid>(
                $"select distinct {TenantColumn(table)} from {table}", CancellationToken.None)).ToList();
            if (!visibleTenants.SequenceEqual([seeded.Tenants.First.Id]))
            {
                leaks.Add($"{table}: sees tenants [{string.Join(", ", visibleTenants)}]");
            }
        }

        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    [Fact]
    public async Task Updating_the_other_tenants_rows_changes_nothing_in_every_table()
    {
        var leaks = new List<string>();
        foreach (var table in seeded.TenantOwnedTables.Append("tenants"))
        {
            var column = table == "tenants" ? "display_name" : "tenant_id";
            var affected = await AffectedRowsOrRefusedAsync(
                $"update {table} set {column} = {column} where {TenantColumn(table)} = @other");
            if (affected is > 0)
            {
                leaks.Add($"{table}: updated {affected} row(s) of the other tenant");
            }
        }

        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    [Fact]
    public async Task Deleting_the_other_tenants_rows_removes_nothing_in_every_table()
    {
        var leaks = new List<string>();
        foreach (var table in seeded.TenantOwnedTables.Append("tenants"))
        {
            var affected = await AffectedRowsOrRefusedAsync($"delete from {table} where {TenantColumn(table)} = @other");
            if (affected is > 0)
            {
                leaks.Add($"{table}: deleted {affected} row(s) of the other tenant");
            }
        }

        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    [Fact]
    public async Task Inserting_a_row_for_the_other_tenant_is_refused_by_row_level_security_in_every_table()
    {
        var leaks = new List<string>();
        foreach (var table in seeded.TenantOwnedTables)
        {
            // A copy of one of our own rows, re-labelled with the other tenant's id: only the policy can refuse it, because the
            // policy check runs before constraints and unique indexes.
            var columns = seeded.InsertableColumns[table];
            var values = columns.Select(column => column == "tenant_id" ? "@other" : column);
            var sql = $"insert into {table} ({string.Join(", ", columns)}) select {string.Join(", ", values)} from {table} limit 1";
            await using var uow = await seeded.Database.Tenants.BeginAsync(seeded.Tenants.First.Id, CancellationToken.None);
            try
            {
                await uow.Db.ExecuteAsync(sql, new { other = seeded.Tenants.Second.Id }, CancellationToken.None);
                leaks.Add($"{table}: insert with the other tenant's id succeeded");
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                if (!exception.MessageText.Contains("row-level security", StringComparison.Ordinal))
                {
                    leaks.Add($"{table}: refused for another reason ({exception.MessageText}) — the policy was not exercised");
                }
            }
        }

        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    [Fact]
    public async Task Without_a_tenant_every_table_looks_empty()
    {
        var leaks = new List<string>();
        await using var connection = await seeded.Database.AppDataSource.OpenConnectionAsync();
        foreach (var table in seeded.TenantOwnedTables.Append("tenants"))
        {
            var count = await connection.Linq().ExecuteAsync<long>($"select count(*) from {table}", CancellationToken.None);
            if (count != 0)
            {
                leaks.Add($"{table}: {count} row(s) visible without a tenant");
            }
        }

        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    [Fact]
    public async Task A_pooled_connection_sees_nothing_after_its_unit_of_work_ended()
    {
        // Once a session has set app.tenant_id, the setting reads '' (not null) in later transactions; that must mean "no tenant".
        var builder = new NpgsqlConnectionStringBuilder(seeded.Database.AppConnectionString) { MaxPoolSize = 1 };
        await using var singleConnectionPool = NpgsqlDataSource.Create(builder.ConnectionString);
        await using (var uow = await new Data.Tenancy.TenantDatabase(singleConnectionPool).BeginAsync(seeded.Tenants.First.Id, CancellationToken.None))
        {
            Assert.True(await uow.Db.ExecuteAsync<long>("select count(*) from vendors", CancellationToken.None) > 0);
            await uow.CommitAsync(CancellationToken.None);
        }

        await using var sameConnection = await singleConnectionPool.OpenConnectionAsync();
        Assert.Equal(0, await sameConnection.Linq().ExecuteAsync<long>("select count(*) from vendors", CancellationToken.None));
    }

    /// <summary>Rows affected by a statement run as the first tenant against the second, or null when the role may not run it at all.</summary>
    private async Task<int?> AffectedRowsOrRefusedAsync(string sql)
    {
        await using var uow = await seeded.Database.Tenants.BeginAsync(seeded.Tenants.First.Id, CancellationToken.None);
        try
        {
            return await uow.Db.ExecuteAsync(sql, new { other = seeded.Tenants.Second.Id }, CancellationToken.None);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return null;
        }
    }

    private static string TenantColumn(string table) => table == "tenants" ? "id" : "tenant_id";

    /// <summary>A database where both tenants have at least one row in every tenant-owned table.</summary>
    public sealed class SeededTenants : IAsyncLifetime
    {
        // Runs as the application role inside each tenant's unit of work, like product code.
        private const string SeedSql =
            """
            do $$
            declare
                t   uuid := current_setting('app.tenant_id')::uuid;
                usr uuid; imp uuid; ven uuid; po uuid; pol uuid; rcp uuid; inv uuid; invl uuid; tol uuid; dec uuid; msg uuid; exc uuid; usr2 uuid; twin uuid;
            begin
                insert into users (tenant_id, email_encrypted, email_index, role)
                    values (t, '\x01'::bytea, sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'admin') returning id into usr;
                insert into refresh_tokens (tenant_id, user_id, family_id, token_hash, expires_at)
                    values (t, usr, gen_random_uuid(), sha256(convert_to(gen_random_uuid()::text, 'UTF8')), now() + interval '1 day');
                insert into api_keys (tenant_id, name, key_prefix, key_hash, role, created_by)
                    values (t, 'ci', 'ik_abc', sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'clerk', usr);
                insert into invitations (tenant_id, email_encrypted, role, token_hash, invited_by, expires_at)
                    values (t, '\x01'::bytea, 'clerk', sha256(convert_to(gen_random_uuid()::text, 'UTF8')), usr, now() + interval '7 days');
                insert into password_resets (tenant_id, user_id, token_hash, expires_at)
                    values (t, usr, sha256(convert_to(gen_random_uuid()::text, 'UTF8')), now() + interval '30 minutes');
                insert into imports (tenant_id, kind, file_name, content_sha256)
                    values (t, 'invoices', 'invoices.csv', sha256(convert_to(gen_random_uuid()::text, 'UTF8'))) returning id into imp;
                insert into import_errors (tenant_id, import_id, line, column_name, value, reason)
                    values (t, imp, 3, 'quantity', 'ten', 'not a number');
                insert into import_column_mappings (tenant_id, kind, source_header, canonical_column)
                    values (t, 'invoices', 'belegnr', 'invoice_number');
                insert into vendors (tenant_id, vendor_code, name, currency) values (t, 'V1001', 'Summit Industrial Supply Inc', 'USD')
                    returning id into ven;
                insert into vendor_aliases (tenant_id, vendor_id, kind, value, normalized_value, source)
                    values (t, ven, 'name', 'Summit Industrial', 'SUMMIT INDUSTRIAL', 'import');
                insert into purchase_orders (tenant_id, po_number, po_number_normalized, vendor_id, order_date, currency)
                    values (t, 'PO-10045', '10045', ven, '2026-02-01', 'USD') returning id into po;
                insert into purchase_order_lines (tenant_id, purchase_order_id, line_no, description, quantity, unit_price)
                    values (t, po, 1, 'Widget', 10, 2.5) returning id into pol;
                insert into receipts (tenant_id, receipt_number) values (t, 'GR-5001') returning id into rcp;
                insert into receipt_lines (tenant_id, receipt_id, po_number, po_line_no, purchase_order_line_id, received_date, quantity_received)
                    values (t, rcp, 'PO-10045', 1, pol, '2026-02-03', 10);
                insert into invoices (tenant_id, import_id, import_position, invoice_number, invoice_number_normalized,
                                      printed_vendor_name, vendor_id, purchase_order_id, invoice_date, currency, invoice_total)
                    values (t, imp, 1, 'INV-1', '1', 'Summit Industrial', ven, po, '2026-02-05', 'USD', 25) returning id into inv;
                insert into invoice_lines (tenant_id, invoice_id, line_no, description, quantity, unit_price, line_amount, source_line)
                    values (t, inv, 1, 'Widget', 10, 2.5, 25, 2) returning id into invl;
                insert into tolerances (tenant_id, vendor_id, version, price_tolerance_percent, quantity_tolerance_percent, total_tolerance)
                    values (t, ven, 1, 1, 0, 0.01) returning id into tol;
                insert into match_decisions (tenant_id, invoice_id, run_id, engine_version, invoice_status, vendor_id, purchase_order_id,
                                             tolerance_id, explanation, evidence)
                    values (t, inv, gen_random_uuid(), 'test', 'matched', ven, po, tol, '{}', '{}') returning id into dec;
                insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
                    values (t, dec, invl, pol, 'matched', '{}');
                insert into exceptions (tenant_id, invoice_id, match_decision_id, reason, assignee_id)
                    values (t, inv, dec, 'price_variance', usr) returning id into exc;
                insert into match_overrides (tenant_id, invoice_id, kind, po_number, reason, created_by)
                    values (t, inv, 'rematch', 'PO-10045', 'seed', usr::text);
                insert into similarity_models (tenant_id, kind, version, weights) values (t, 'vendor_name', 1, '{"intercept": 0.1}');
                insert into audit_log (tenant_id, actor, action, entity) values (t, 'seed', 'create', 'tenant');
                insert into outbox (id, tenant_id, topic, event_type, payload)
                    values (gen_random_uuid(), t, 'invoices', 'invoice.imported', '{}');
                insert into outbox_dead_letters (id, tenant_id, topic, event_type, payload, occurred_at, attempts)
                    values (gen_random_uuid(), t, 'invoices', 'invoice.imported', '{}', now(), 5);
                insert into inbox (tenant_id, consumer, event_id) values (t, 'matching', gen_random_uuid());
                insert into intake_addresses (address, tenant_id, created_by)
                    values ('t' || replace(t::text, '-', '') || '@invoices.localhost', t, 'seed');
                insert into intake_allowlist (tenant_id, entry, created_by) values (t, '@supplier.example', 'seed');
                insert into intake_messages (tenant_id, source, content_sha256, from_address, size_bytes, status)
                    values (t, 'smtp', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), 'ap@supplier.example', 10, 'processed')
                    returning id into msg;
                insert into intake_attachments (tenant_id, message_id, ordinal, path, file_name, content_type, size_bytes, outcome)
                    values (t, msg, 0, 'invoice.xml', 'invoice.xml', 'application/xml', 10, 'imported');
                insert into intake_attachments (tenant_id, message_id, ordinal, path, file_name, content_type, size_bytes, outcome, pdf_blob, keyed_by, keyed_at)
                    values (t, msg, 1, 'scan.pdf', 'scan.pdf', 'application/pdf', 10, 'keyed', 'tenants/x/intake/y/0001.pdf', 'seed', now());
                insert into keyed_invoices (tenant_id, import_id, invoice_id, message_id, ordinal, pdf_blob, due_date, keyed_by)
                    values (t, imp, inv, msg, 1, 'tenants/x/intake/y/0001.pdf', '2026-03-05', 'seed');
                insert into intake_mailboxes (tenant_id, host, port, tls, username, secret_name, updated_by)
                    values (t, 'imap.example', 993, 'implicit', 'ap', 'intake-mailbox', 'seed');
                insert into tenant_ip_allowlist (tenant_id, cidr, created_by) values (t, '203.0.113.0/24', 'seed');
                insert into retention_policies (tenant_id, financial_years, audit_years, updated_by) values (t, 10, 5, 'seed');
                insert into legal_holds (tenant_id, vendor_id, reason, placed_by) values (t, ven, 'Litigation', 'seed');
                insert into quickbooks_connections (tenant_id, realm_id, refresh_token, refresh_token_key_id, connected_by)
                    values (t, 'realm-' || t::text, '\x00', 'seed-key', 'seed');
                insert into quickbooks_exports (tenant_id, invoice_id, kind, state, request_id) values (t, inv, 'bill', 'waiting', gen_random_uuid());
                insert into quickbooks_vendor_mappings (tenant_id, vendor_id, qbo_vendor_id, qbo_vendor_name, source, updated_by)
                    values (t, ven, '56', 'Summit Industrial', 'name', 'seed');
                insert into quickbooks_oauth_states (tenant_id, state_hash, created_by, expires_at)
                    values (t, sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'seed', now() + interval '10 minutes');
                insert into quickbooks_webhook_events (tenant_id, event_key) values (t, 'Bill:1:Update:' || t::text);
                insert into approval_rules (tenant_id, position, name, min_amount, required_approvals, required_role, updated_by)
                    values (t, 0, 'Over 10,000', 10000, 2, 'admin', 'seed');
                insert into exception_approvals (tenant_id, exception_id, approver_id, principal_id, principal_role, rule_name, comment)
                    values (t, exc, usr, usr, 'admin', 'Over 10,000', 'seed');
                insert into users (tenant_id, email_encrypted, email_index, role)
                    values (t, '\x02'::bytea, sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'approver') returning id into usr2;
                insert into approval_delegations (tenant_id, delegator_id, delegate_id, starts_at, ends_at, created_by)
                    values (t, usr, usr2, now(), now() + interval '7 days', 'seed');
                insert into exchange_rates (tenant_id, currency, valid_from, rate) values (t, 'EUR', '2026-01-01', 1.1);
                insert into notifications (tenant_id, event_id, user_id, channel, kind, subject, body, link)
                    values (t, gen_random_uuid(), usr, 'in_app', 'exception_assigned', 'Exception assigned to you', 'seed', '/exceptions');
                insert into notification_preferences (tenant_id, user_id, kind, email, in_app, digest)
                    values (t, usr, 'approval_waiting', false, true, true);
                insert into vendors (tenant_id, vendor_code, name, merged_into) values (t, 'V1002', 'Summit Industrial Supply', ven) returning id into twin;
                insert into vendor_merges (tenant_id, survivor_id, merged_vendor_ids, changes, merged_by) values (t, ven, array[twin], '{}', 'seed');
                insert into vendor_duplicate_dismissals (tenant_id, first_vendor_id, second_vendor_id, dismissed_by)
                    values (t, least(ven, twin), greatest(ven, twin), 'seed');
            end $$
            """;

        private TestDatabase? database;

        public TestDatabase Database => database!;

        public TwoTenants Tenants { get; private set; } = null!;

        public IReadOnlyList<string> TenantOwnedTables { get; private set; } = [];

        /// <summary>Per tenant-owned table, the columns an INSERT may name (generated columns excluded).</summary>
        public IReadOnlyDictionary<string, IReadOnlyList<string>> InsertableColumns { get; private set; } = null!;

        public IReadOnlyDictionary<(string Table, Guid Tenant), long> RowCounts { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            database = await TestPostgres.CreateDatabaseAsync();
            Tenants = await database.CreateTwoTenantsAsync();
            foreach (var tenant in new[] { Tenants.First, Tenants.Second })
            {
                await using var uow = await database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
                await uow.Db.ExecuteAsync(SeedSql, CancellationToken.None);
                await uow.CommitAsync(CancellationToken.None);
            }

            // The catalog, not a hand-written list, says which tables are tenant-owned.
            await using var superuser = new NpgsqlConnection(database.SuperuserConnectionString);
            await superuser.OpenAsync();
            TenantOwnedTables = (await superuser.Linq().QueryToListAsync<string>(
                """
                select c.relname from pg_class c
                join pg_namespace n on n.oid = c.relnamespace
                join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
                where n.nspname = 'public' and c.relkind in ('r', 'p')
                order by c.relname
                """, CancellationToken.None)).ToList();
            InsertableColumns = (await superuser.Linq().QueryToListAsync(
                row => (Table: row.GetFieldValue<string>(0), Column: row.GetFieldValue<string>(1)),
                """
                select c.relname, a.attname from pg_class c
                join pg_namespace n on n.oid = c.relnamespace
                join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                where n.nspname = 'public' and a.attidentity <> 'a' and a.attgenerated = ''
                order by c.relname, a.attnum
                """, CancellationToken.None))
                .GroupBy(row => row.Table)
                .ToDictionary(group => group.Key, group => (IReadOnlyList<string>)group.Select(row => row.Column).ToList());
            var counts = new Dictionary<(string, Guid), long>();
            foreach (var table in TenantOwnedTables)
            {
                foreach (var tenant in new[] { Tenants.First.Id, Tenants.Second.Id })
                {
                    counts[(table, tenant)] = await superuser.Linq().ExecuteAsync<long>(
                        $"select count(*) from {table} where tenant_id = @tenant", new { tenant }, CancellationToken.None);
                }
            }

            RowCounts = counts;
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
