using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
using Npgsql;

namespace Invisible.Data.Retention;

/// <summary>Rows a retention run removed (or, dry, would remove) from one table.</summary>
public sealed record RetentionTableCount(string Table, long Rows);

/// <summary>
/// What retention did to one tenant: its policy and cut-offs, whether a tenant-wide hold kept everything, the rows per table,
/// and the kept files (blob names, or prefixes ending in '/') of the removed documents, to delete once the transaction committed.
/// </summary>
public sealed record TenantRetentionReport(
    Guid TenantId, RetentionPolicy Policy, DateOnly FinancialCutoff, DateTimeOffset AuditCutoff, bool TenantOnHold,
    IReadOnlyList<RetentionTableCount> Tables, IReadOnlyList<string> Blobs, bool Applied)
{
    public long RowsRemoved => Tables.Sum(table => table.Rows);
}

/// <summary>
/// Removes a tenant's records older than its <see cref="RetentionPolicy"/>, in one transaction: financial documents dated on
/// or before the financial cut-off with their lines, decisions, exceptions, imports and e-mails (except what a legal hold
/// covers, and what a kept record still references), then audit entries older than the audit cut-off. Runs as the database
/// owner: decisions and audit entries are append-only for the application role. A dry run does exactly the same work and
/// rolls it back, so the counts it prints are the run's.
/// </summary>
public sealed class RetentionPruning(NpgsqlDataSource ownerDataSource)
{
    /// <summary>The audit action of the checkpoint entry a run appends; the chain verifier starts a pruned chain at it.</summary>
    public const string CheckpointAction = "retention.pruned";

    public const string KeptFilesTable = "kept files (blobs)";

    [Table("audit_log")]
    private sealed class AuditRow
    {
        [Column("seq")] public long Seq { get; set; }

        [Column("occurred_at")] public DateTimeOffset OccurredAt { get; set; }

        [Column("hash")] public byte[] Hash { get; set; } = [];
    }

    // Set-based deletes over temporary tables of what expired, in dependency order: LINQ cannot say these multi-table
    // conditions and DELETE ... RETURNING counts as clearly. A step with a table name returns that table's removed rows.
    private static readonly (string Table, string Sql)[] FinancialSteps =
    [
        ("", """
             create temp table held_vendors on commit drop as select vendor_id from legal_holds where vendor_id is not null;
             create temp table expired_invoices on commit drop as
             select i.id from invoices i
             where i.invoice_date <= @cutoff
               and (i.vendor_id is null or i.vendor_id not in (select vendor_id from held_vendors))
               and (i.purchase_order_id is null
                    or i.purchase_order_id not in (select id from purchase_orders where vendor_id in (select vendor_id from held_vendors)))
               and not exists (select from match_decisions d where d.invoice_id = i.id and d.vendor_id in (select vendor_id from held_vendors));
             -- An original that a kept invoice's decision names as duplicated stays, so that decision still resolves.
             delete from expired_invoices e
             where exists (select from match_decisions d where d.duplicate_of = e.id and d.invoice_id not in (select id from expired_invoices));
             """),
        ("line_decisions", """
             with gone as (delete from line_decisions
                           where match_decision_id in (select id from match_decisions where invoice_id in (select id from expired_invoices))
                           returning 1)
             select count(*) from gone
             """),
        ("exceptions", "with gone as (delete from exceptions where invoice_id in (select id from expired_invoices) returning 1) select count(*) from gone"),
        ("match_overrides", "with gone as (delete from match_overrides where invoice_id in (select id from expired_invoices) returning 1) select count(*) from gone"),
        ("match_decisions", "with gone as (delete from match_decisions where invoice_id in (select id from expired_invoices) returning 1) select count(*) from gone"),
        ("invoice_lines", "with gone as (delete from invoice_lines where invoice_id in (select id from expired_invoices) returning 1) select count(*) from gone"),
        ("invoices", "with gone as (delete from invoices where id in (select id from expired_invoices) returning 1) select count(*) from gone"),
        ("", """
             create temp table expired_receipts on commit drop as
             select r.id from receipts r
             where coalesce((select max(l.received_date) from receipt_lines l where l.receipt_id = r.id), (r.created_at at time zone 'UTC')::date) <= @cutoff
               and not exists (select from receipt_lines l
                               join purchase_order_lines pl on pl.id = l.purchase_order_line_id
                               join purchase_orders p on p.id = pl.purchase_order_id
                               where l.receipt_id = r.id and p.vendor_id in (select vendor_id from held_vendors));
             """),
        ("receipt_lines", "with gone as (delete from receipt_lines where receipt_id in (select id from expired_receipts) returning 1) select count(*) from gone"),
        ("receipts", "with gone as (delete from receipts where id in (select id from expired_receipts) returning 1) select count(*) from gone"),
        ("", """
             create temp table expired_purchase_orders on commit drop as
             select p.id from purchase_orders p
             where p.order_date <= @cutoff
               and p.vendor_id not in (select vendor_id from held_vendors)
               and not exists (select from invoices i where i.purchase_order_id = p.id)
               and not exists (select from match_decisions d where d.purchase_order_id = p.id)
               and not exists (select from purchase_order_lines pl join line_decisions ld on ld.purchase_order_line_id = pl.id
                               where pl.purchase_order_id = p.id)
               and not exists (select from purchase_order_lines pl join receipt_lines rl on rl.purchase_order_line_id = pl.id
                               where pl.purchase_order_id = p.id);
             """),
        ("purchase_order_lines", """
             with gone as (delete from purchase_order_lines where purchase_order_id in (select id from expired_purchase_orders) returning 1)
             select count(*) from gone
             """),
        ("purchase_orders", "with gone as (delete from purchase_orders where id in (select id from expired_purchase_orders) returning 1) select count(*) from gone"),
        ("", """
             create temp table expired_imports on commit drop as
             select m.id, m.content_blob from imports m
             where (m.received_at at time zone 'UTC')::date <= @cutoff
               and not exists (select from invoices i where i.import_id = m.id)
               and not exists (select from purchase_orders p where p.import_id = m.id)
               and not exists (select from receipts r where r.import_id = m.id)
               and not exists (select from vendors v where v.import_id = m.id);
             """),
        ("import_errors", "with gone as (delete from import_errors where import_id in (select id from expired_imports) returning 1) select count(*) from gone"),
        ("imports", "with gone as (delete from imports where id in (select id from expired_imports) returning 1) select count(*) from gone"),
        ("", """
             -- A message stays while an import made from one of its attachments is kept.
             create temp table expired_messages on commit drop as
             select m.id, m.eml_blob from intake_messages m
             where (m.received_at at time zone 'UTC')::date <= @cutoff
               and not exists (select from intake_attachments a where a.message_id = m.id and a.import_id in (select id from imports));
             """),
        ("intake_attachments", "with gone as (delete from intake_attachments where message_id in (select id from expired_messages) returning 1) select count(*) from gone"),
        ("intake_messages", "with gone as (delete from intake_messages where id in (select id from expired_messages) returning 1) select count(*) from gone"),
    ];

    // The kept files of what the steps above removed, read before the temporary tables are dropped at the end of the transaction.
    private const string ExpiredBlobsSql =
        """
        select content_blob from expired_imports where content_blob is not null
        union all select eml_blob from expired_messages where eml_blob is not null
        union all select a.pdf_blob from intake_attachments a
                  where a.message_id in (select id from expired_messages) and a.pdf_blob is not null
        """;

    /// <summary>
    /// Prunes one tenant as of <paramref name="now"/>: commits when <paramref name="dryRun"/> is false, else rolls back. The
    /// kept files in the report are not touched here: the caller deletes them after the commit, so a failed run loses no file.
    /// </summary>
    public async Task<TenantRetentionReport> PruneAsync(Guid tenantId, DateTimeOffset now, bool dryRun, string actor, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await TenantUnitOfWork.BeginAsync(ownerDataSource, tenantId, cancellationToken);
        var db = unitOfWork.Db;
        var policy = (await RetentionSettings.GetAsync(unitOfWork, cancellationToken)).Policy;
        var financialCutoff = policy.FinancialCutoff(DateOnly.FromDateTime(now.UtcDateTime));
        var auditCutoff = policy.AuditCutoff(now);
        var tenantOnHold = await db.GetTable<RetentionSettings.HoldRow>().AnyAsync(hold => hold.VendorId == null, cancellationToken);
        var tables = new List<RetentionTableCount>();
        var blobs = new List<string>();
        if (!tenantOnHold)
        {
            var cutoff = new DataParameter("cutoff", financialCutoff, DataType.Date);
            foreach (var (table, sql) in FinancialSteps)
            {
                if (table.Length == 0)
                {
                    // SQL: set-based deletes in reference order with joins to holds and kept records; LINQ cannot say them clearly.
                    await db.ExecuteAsync(sql, cancellationToken, cutoff);
                    continue;
                }

                if (table == "intake_attachments")
                {
                    // Before the attachments go: their PDFs' names leave with them.
                    // SQL: the expired blobs are a union over three tables with the same cut-off rules as the deletes.
                    blobs.AddRange(await db.QueryToListAsync<string>(ExpiredBlobsSql, cancellationToken));
                }

                // SQL: the same set-based delete, counting what it removed.
                tables.Add(new RetentionTableCount(table, await db.ExecuteAsync<long>(sql, cancellationToken, cutoff)));
            }

            tables.Add(new RetentionTableCount(KeptFilesTable, blobs.Count));
            tables.Add(new RetentionTableCount("audit_log", await PruneAuditAsync(unitOfWork, auditCutoff, financialCutoff, tables, actor, cancellationToken)));
        }

        if (!dryRun)
        {
            await unitOfWork.CommitAsync(cancellationToken);
        }

        return new TenantRetentionReport(tenantId, policy, financialCutoff, auditCutoff, tenantOnHold, tables, blobs, Applied: !dryRun);
    }

    /// <summary>
    /// Removes the entries older than <paramref name="auditCutoff"/> (a prefix of the chain), after appending the checkpoint
    /// entry that carries the last removed entry's sequence number and hash, and what the run removed. Returns the entries removed.
    /// </summary>
    private static async Task<long> PruneAuditAsync(
        TenantUnitOfWork unitOfWork, DateTimeOffset auditCutoff, DateOnly financialCutoff, IReadOnlyList<RetentionTableCount> tables, string actor,
        CancellationToken cancellationToken)
    {
        var entries = unitOfWork.Db.GetTable<AuditRow>();
        var lastRemoved = await entries.Where(entry => entry.OccurredAt < auditCutoff).OrderByDescending(entry => entry.Seq).FirstOrDefaultAsync(cancellationToken);
        var removing = lastRemoved is null ? 0 : await entries.CountAsync(entry => entry.Seq <= lastRemoved.Seq, cancellationToken);
        if (removing == 0 && tables.All(table => table.Rows == 0))
        {
            return 0;
        }

        await AuditLog.AppendAsync(
            unitOfWork, actor, CheckpointAction, "retention", unitOfWork.TenantId.ToString(), null,
            new
            {
                FinancialCutoff = financialCutoff.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                AuditCutoff = auditCutoff.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                Removed = tables.Where(table => table.Rows > 0).ToDictionary(table => table.Table, table => table.Rows),
                AuditCheckpoint = lastRemoved is null
                    ? null
                    : new { ThroughSeq = lastRemoved.Seq, LastRemovedHash = Convert.ToHexStringLower(lastRemoved.Hash), Removed = removing },
            },
            null, cancellationToken);
        if (lastRemoved is null)
        {
            return 0;
        }

        // SQL: set_config of a transaction-local setting has no LINQ form.
        // The audit_log_refuse_change trigger lets the owner delete this tenant's entries up to this number, in this transaction only.
        await unitOfWork.Db.ExecuteAsync(
            "select set_config('invisible.audit_prune_through', @through, true)", cancellationToken,
            new DataParameter("through", lastRemoved.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), DataType.Text));
        return await entries.Where(entry => entry.Seq <= lastRemoved.Seq).DeleteAsync(cancellationToken);
    }
}
