using Invisible.Data.Audit;
using Invisible.Data.Retention;
using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Embedded;
using Invisible.Server.Operations;
using Invisible.Testing;
using LinqToDB.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Invisible.Server.Tests.Operations;

/// <summary>
/// Retention on aged data in a real PostgreSQL: documents dated 2015 (past 7 years after their fiscal year on the test's clock)
/// next to a 2025 invoice, pruned by the same run the CLI and the worker use, as the database owner, with kept files in a real
/// file-system blob store.
/// </summary>
public sealed class RetentionTests : IAsyncLifetime, IDisposable
{
    // 2026-06-01: financial records dated up to 2018-12-31 may go; audit entries written today stay.
    private static readonly DateTimeOffset Today = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly string[] SeededBlobs = ["kept/old/0000000000", "kept/held/0000000000", "kept/new/0000000000", "mail/old.eml", "mail/old-0.pdf"];

    // Runs as the application role in the tenant's unit of work. V-OLD's 2015 invoice with its PO, receipt, decision, exception,
    // import and e-mail have expired; V-HELD's 2015 invoice (own import) expires unless held; the 2025 invoice is young.
    private const string AgedDataSql =
        """
        do $$
        declare
            t uuid := current_setting('app.tenant_id')::uuid;
            ven_old uuid; ven_held uuid; imp_old uuid; imp_held uuid; imp_new uuid; po uuid; pol uuid; rcp uuid; inv uuid; invl uuid;
            tol uuid; dec uuid; msg uuid;
        begin
            insert into vendors (tenant_id, vendor_code, name, currency) values (t, 'V-OLD', 'Old Supplies', 'USD') returning id into ven_old;
            insert into vendors (tenant_id, vendor_code, name, currency) values (t, 'V-HELD', 'Held Trading', 'USD') returning id into ven_held;
            insert into imports (tenant_id, kind, file_name, content_sha256, received_at, content_blob)
                values (t, 'invoices', 'old.csv', sha256('old'::bytea), '2015-02-01', 'kept/old/') returning id into imp_old;
            insert into imports (tenant_id, kind, file_name, content_sha256, received_at, content_blob)
                values (t, 'invoices', 'held.csv', sha256('held'::bytea), '2015-02-02', 'kept/held/') returning id into imp_held;
            insert into imports (tenant_id, kind, file_name, content_sha256, received_at, content_blob)
                values (t, 'invoices', 'new.csv', sha256('new'::bytea), '2025-05-02', 'kept/new/') returning id into imp_new;
            insert into purchase_orders (tenant_id, po_number, po_number_normalized, vendor_id, order_date, currency, import_id)
                values (t, 'PO-1', '1', ven_old, '2015-01-10', 'USD', imp_old) returning id into po;
            insert into purchase_order_lines (tenant_id, purchase_order_id, line_no, description, quantity, unit_price)
                values (t, po, 1, 'Widget', 10, 2.5) returning id into pol;
            insert into receipts (tenant_id, receipt_number, import_id) values (t, 'GR-1', imp_old) returning id into rcp;
            insert into receipt_lines (tenant_id, receipt_id, po_number, po_line_no, purchase_order_line_id, received_date, quantity_received)
                values (t, rcp, 'PO-1', 1, pol, '2015-01-20', 10);
            insert into invoices (tenant_id, import_id, import_position, invoice_number, invoice_number_normalized,
                                  printed_vendor_name, vendor_id, purchase_order_id, invoice_date, currency, invoice_total)
                values (t, imp_old, 1, 'INV-OLD', 'OLD', 'Old Supplies', ven_old, po, '2015-02-01', 'USD', 25) returning id into inv;
            insert into invoice_lines (tenant_id, invoice_id, line_no, description, quantity, unit_price, line_amount, source_line)
                values (t, inv, 1, 'Widget', 10, 2.5, 25, 2) returning id into invl;
            insert into tolerances (tenant_id, vendor_id, version, price_tolerance_percent, quantity_tolerance_percent, total_tolerance)
                values (t, ven_old, 1, 1, 0, 0.01) returning id into tol;
            insert into match_decisions (tenant_id, invoice_id, run_id, engine_version, invoice_status, vendor_id, purchase_order_id,
                                         tolerance_id, explanation, evidence)
                values (t, inv, gen_random_uuid(), 'test', 'exception', ven_old, po, tol, '{}', '{}') returning id into dec;
            insert into line_decisions (tenant_id, match_decision_id, invoice_line_id, purchase_order_line_id, line_status, explanation)
                values (t, dec, invl, pol, 'matched', '{}');
            insert into exceptions (tenant_id, invoice_id, match_decision_id, reason) values (t, inv, dec, 'price_variance');
            insert into invoices (tenant_id, import_id, import_position, invoice_number, invoice_number_normalized,
                                  printed_vendor_name, vendor_id, invoice_date, currency, invoice_total)
                values (t, imp_held, 1, 'INV-HELD', 'HELD', 'Held Trading', ven_held, '2015-02-02', 'USD', 10);
            insert into invoices (tenant_id, import_id, import_position, invoice_number, invoice_number_normalized,
                                  printed_vendor_name, vendor_id, invoice_date, currency, invoice_total)
                values (t, imp_new, 1, 'INV-NEW', 'NEW', 'Old Supplies', ven_old, '2025-05-01', 'USD', 40);
            insert into intake_messages (tenant_id, source, content_sha256, from_address, size_bytes, status, received_at, eml_blob)
                values (t, 'smtp', repeat('ab', 32), 'ap@supplier.example', 10, 'processed', '2015-02-01', 'mail/old.eml') returning id into msg;
            insert into intake_attachments (tenant_id, message_id, ordinal, path, file_name, content_type, size_bytes, outcome, pdf_blob)
                values (t, msg, 0, 'invoice.pdf', 'invoice.pdf', 'application/pdf', 10, 'to_key', 'mail/old-0.pdf');
        end $$
        """;

    private readonly TemporaryDirectory _dataDirectory = new("invisible-retention-");
    private TestDatabase _database = null!;
    private FileSystemBlobStore _blobs = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync();
        _blobs = new FileSystemBlobStore(Microsoft.Extensions.Options.Options.Create(new RuntimeOptions { DataDirectory = _dataDirectory.Path }));
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    public void Dispose() => _dataDirectory.Dispose();

    [Fact]
    public async Task A_dry_run_reports_exactly_what_the_run_then_removes_and_removes_nothing_itself()
    {
        var tenant = await AgedTenantAsync();

        var dry = await RunAsync(tenant, Today, dryRun: true);
        var invoicesAfterDryRun = await InvoiceNumbersAsync(tenant);
        var run = await RunAsync(tenant, Today, dryRun: false);

        var failures = new List<string>();
        if (!dry.Totals.SequenceEqual(run.Totals))
        {
            failures.Add($"dry run {Describe(dry)} but the run {Describe(run)}");
        }

        if (invoicesAfterDryRun.Count != 3)
        {
            failures.Add($"the dry run left {invoicesAfterDryRun.Count} of 3 invoices");
        }

        var expected = new Dictionary<string, long>
        {
            ["invoices"] = 2, ["invoice_lines"] = 1, ["match_decisions"] = 1, ["line_decisions"] = 1, ["exceptions"] = 1, ["receipts"] = 1,
            ["receipt_lines"] = 1, ["purchase_orders"] = 1, ["purchase_order_lines"] = 1, ["imports"] = 2, ["intake_messages"] = 1,
            ["intake_attachments"] = 1, [RetentionPruning.KeptFilesTable] = 4,
        };
        foreach (var (table, rows) in expected.Where(pair => run.Totals.Single(total => total.Table == pair.Key).Rows != pair.Value))
        {
            failures.Add($"{table}: expected {rows} removed, the run says {run.Totals.Single(total => total.Table == table).Rows}");
        }

        if (!(await InvoiceNumbersAsync(tenant)).SequenceEqual(["INV-NEW"]))
        {
            failures.Add($"after the run the invoices are {string.Join(", ", await InvoiceNumbersAsync(tenant))}, expected only INV-NEW");
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task A_legal_hold_on_a_vendor_keeps_its_documents_whatever_their_age()
    {
        var tenant = await AgedTenantAsync();
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.AddHoldAsync(unitOfWork, "V-HELD", "Litigation 2026-17", "test", CancellationToken.None));

        await RunAsync(tenant, Today, dryRun: false);

        Assert.Equal(["INV-HELD", "INV-NEW"], await InvoiceNumbersAsync(tenant));
    }

    [Fact]
    public async Task A_legal_hold_on_the_tenant_keeps_everything()
    {
        var tenant = await AgedTenantAsync();
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.AddHoldAsync(unitOfWork, null, "Tax audit", "test", CancellationToken.None));

        var report = await RunAsync(tenant, Today, dryRun: false);

        Assert.True(report.Tenants.Single().Report.TenantOnHold && (await InvoiceNumbersAsync(tenant)).Count == 3, Describe(report));
    }

    [Fact]
    public async Task A_policy_shorter_than_the_defaults_is_refused_without_force_and_recorded_with_who_forced_it()
    {
        var tenant = await _database.CreateTenantAsync();
        var shorter = RetentionPolicy.Default with { FinancialYears = 5 };

        var refused = await Assert.ThrowsAsync<RetentionSettingException>(
            () => ChangeAsync(tenant, unitOfWork => RetentionSettings.SetAsync(unitOfWork, shorter, force: false, "clerk", CancellationToken.None)));
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.SetAsync(unitOfWork, shorter, force: true, "auditor", CancellationToken.None));

        await using var reading = await _database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        var stored = await RetentionSettings.GetAsync(reading, CancellationToken.None);
        Assert.True(
            refused.Message.Contains("--force", StringComparison.Ordinal) && stored.Policy.FinancialYears == 5 && stored.ForcedBy == "auditor",
            $"{refused.Message} / stored {stored}");
    }

    [Fact]
    public async Task The_audit_chain_still_verifies_after_its_oldest_entries_are_pruned_and_new_ones_appended()
    {
        var tenant = await AgedTenantAsync();
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.SetAsync(unitOfWork, RetentionPolicy.Default with { AuditYears = 4 }, false, "admin", CancellationToken.None));

        // Ten years on, every entry written today is past its 4 years.
        var report = await RunAsync(tenant, Today.AddYears(10), dryRun: false);
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.AddHoldAsync(unitOfWork, null, "After the pruning", "admin", CancellationToken.None));

        await using var unitOfWork = await _database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        var verification = await AuditLog.VerifyChainAsync(unitOfWork, CancellationToken.None);
        var removed = report.Totals.Single(total => total.Table == "audit_log").Rows;
        Assert.True(verification.IsIntact && removed > 0 && verification.EntriesChecked == 2, $"{removed} entries pruned; {verification}");
    }

    [Fact]
    public async Task A_chain_whose_oldest_entries_were_removed_without_a_checkpoint_does_not_verify()
    {
        var tenant = await AgedTenantAsync();
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.AddHoldAsync(unitOfWork, "V-HELD", "one", "admin", CancellationToken.None));
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.AddHoldAsync(unitOfWork, "V-OLD", "two", "admin", CancellationToken.None));
        await using (var superuser = new NpgsqlConnection(_database.SuperuserConnectionString))
        {
            await superuser.OpenAsync();
            // What someone with the superuser's keys could do: remove the first entry past the append-only triggers.
            await using var delete = new NpgsqlCommand(
                $"set session_replication_role = replica; delete from audit_log where tenant_id = '{tenant.Id}' and seq = 1", superuser);
            await delete.ExecuteNonQueryAsync();
        }

        await using var unitOfWork = await _database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        Assert.Equal(2, (await AuditLog.VerifyChainAsync(unitOfWork, CancellationToken.None)).FirstBrokenSequence);
    }

    [Fact]
    public async Task Kept_files_go_with_their_documents_and_stay_with_the_kept_ones()
    {
        var tenant = await AgedTenantAsync();
        await ChangeAsync(tenant, unitOfWork => RetentionSettings.AddHoldAsync(unitOfWork, "V-HELD", "Litigation", "test", CancellationToken.None));
        foreach (var blob in SeededBlobs)
        {
            await _blobs.PutAsync(blob, "content"u8.ToArray(), CancellationToken.None);
        }

        await RunAsync(tenant, Today, dryRun: false);

        var left = new List<string>();
        foreach (var blob in SeededBlobs)
        {
            if (await _blobs.GetAsync(blob, CancellationToken.None) is not null)
            {
                left.Add(blob);
            }
        }

        Assert.Equal(["kept/held/0000000000", "kept/new/0000000000"], left);
    }

    private async Task<TenantRecord> AgedTenantAsync()
    {
        var tenant = await _database.CreateTenantAsync();
        await using var unitOfWork = await _database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        await unitOfWork.Db.ExecuteAsync(AgedDataSql, CancellationToken.None);
        await unitOfWork.CommitAsync(CancellationToken.None);
        return tenant;
    }

    private async Task ChangeAsync<T>(TenantRecord tenant, Func<TenantUnitOfWork, Task<T>> change)
    {
        await using var unitOfWork = await _database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        await change(unitOfWork);
        await unitOfWork.CommitAsync(CancellationToken.None);
    }

    private async Task ChangeAsync(TenantRecord tenant, Func<TenantUnitOfWork, Task> change) =>
        await ChangeAsync(tenant, async unitOfWork =>
        {
            await change(unitOfWork);
            return 0;
        });

    private Task<RetentionRunReport> RunAsync(TenantRecord tenant, DateTimeOffset now, bool dryRun) =>
        new RetentionRun(_database.OwnerConnectionString, null, _database.TenantDirectory, _blobs, _dataDirectory.Path, new FixedClock(now), NullLogger.Instance)
            .RunAsync(tenant.Slug, dryRun, CancellationToken.None);

    private async Task<IReadOnlyList<string>> InvoiceNumbersAsync(TenantRecord tenant)
    {
        await using var unitOfWork = await _database.Tenants.BeginAsync(tenant.Id, CancellationToken.None);
        return await unitOfWork.Db.QueryToListAsync<string>("select invoice_number from invoices order by invoice_number", CancellationToken.None);
    }

    private static string Describe(RetentionRunReport report) =>
        string.Join(", ", report.Totals.Where(total => total.Rows > 0).Select(total => $"{total.Table} {total.Rows}"));

    /// <summary>A clock standing at one moment: retention's cut-offs follow from it.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
