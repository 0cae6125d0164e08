using Invisible.Data.Access;
using System.Security.Cryptography;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Platform.Blobs;
using Invisible.Platform.Events;
using Invisible.Server.Audit;
using Invisible.Server.Imports;
using Npgsql;

namespace Invisible.Server.Integrity;

/// <summary>A named invariant: what must always hold of a tenant's data, whatever crashed when.</summary>
/// <param name="Name">Short and stable: printed by <c>invisible verify</c> and named in its failure.</param>
/// <param name="Description">One line: exactly what is checked.</param>
/// <param name="Unit">What the count of checked things counts ("imports", "decisions").</param>
public sealed record Invariant(string Name, string Description, string Unit);

/// <summary>One place where an invariant does not hold: the tenant, the invariant, and the ids that show it.</summary>
public sealed record InvariantViolation(string Tenant, string Invariant, string Detail);

/// <summary>An invariant checked over one or more tenants: how many things were looked at and what broke.</summary>
public sealed record InvariantResult(Invariant Invariant, long Checked, IReadOnlyList<InvariantViolation> Violations)
{
    public bool Holds => Violations.Count == 0;
}

/// <summary>
/// What must hold of the stored data after any crash (every write of the product commits as one transaction, so a killed
/// process may lose work but never leave half of it). Read-only: every check runs as the application role in a tenant unit
/// of work, under row-level security, and each SQL check is a single statement, so that it reads one snapshot even while
/// the product keeps working.
/// </summary>
public sealed class InvariantChecks(TenantDatabase tenants, IBlobStore blobs, EventsOptions events)
{
    public static readonly Invariant ImportsWhole = new(
        "imports-whole",
        "Every import is finished and all-or-nothing: stored or rejected with its completion time and exactly one matching audit entry; " +
        "a rejected import has errors and no document referencing it; a stored invoices import has exactly its stored_count invoice lines and no invoice without lines.",
        "imports");

    public static readonly Invariant KeptFilesMatch = new(
        "kept-files-match",
        "Every import that references a kept file (imports.content_blob) has that file in the blob store, its chunks in offset order, " +
        "and the SHA-256 of the chunks' bytes equals imports.content_sha256.",
        "kept files");

    public static readonly Invariant DecisionsHaveEvidence = new(
        "decisions-have-evidence",
        "Every match decision has an explanation with text and evidence with vendor, po and totals, and exactly one line decision per line of its invoice, " +
        "each with an explanation text and, when paired with a PO line, the figures it was decided on.",
        "decisions");

    public static readonly Invariant QuantityLedger = new(
        "quantity-ledger",
        "The quantity ledger as the current decisions book it: every line of an invoice's current decision that is paired with a PO line books its own invoice line's quantity " +
        "(evidence invoicedQuantity = invoice_lines.quantity) on a line of the decision's own PO, against that PO line's ordered quantity and receipt rule " +
        "(ordered = purchase_order_lines.quantity, receiptRequired = receipt_required); a current duplicate decision books nothing (no line paired).",
        "booked lines");

    public static readonly Invariant InvoiceStatusCurrent = new(
        "invoice-status-current",
        "Every invoice's stored outcome (status, vendor, PO) is its current decision's (the newest: decided_at desc, id); an invoice without a decision is pending.",
        "invoices");

    public static readonly Invariant ExceptionsCurrent = new(
        "exceptions-current",
        "Every exception references a decision of its own invoice; every open or in-review exception references its invoice's current decision, which needs review " +
        "(exception, no_po, duplicate); every invoice whose current decision needs review has exactly one open or in-review exception.",
        "exceptions");

    public static readonly Invariant OutboxDelivering = new(
        "outbox-delivering",
        "Every outbox event is delivered, waiting for its first delivery, or retrying: an undelivered event that failed has its error recorded and fewer failures than " +
        "Events:MaxAttempts, and none is both pending and a dead letter. Dead letters (waiting for a redrive) are counted, not a violation.",
        "events");

    public static readonly Invariant AuditChain = new(
        "audit-chain",
        "The tenant's audit log is numbered 1, 2, 3 ... without gaps (from the checkpoint on, once retention pruned it) and every entry's hash is its recomputed hash, chained to its predecessor's (AuditLog.VerifyChainAsync).",
        "audit entries");

    public static readonly Invariant TenantIsolation = new(
        "tenant-isolation",
        "No row is visible to another tenant: every table with tenant_id (from the catalog) has row-level security enabled and forced, and as the application role " +
        "under the tenant's app.tenant_id every such table (and tenants) shows 0 rows of other tenants.",
        "tables");

    /// <summary>Every invariant, in the order they are checked and printed.</summary>
    public static IReadOnlyList<Invariant> All { get; } =
    [
        ImportsWhole, KeptFilesMatch, DecisionsHaveEvidence, QuantityLedger, InvoiceStatusCurrent, ExceptionsCurrent, OutboxDelivering, AuditChain, TenantIsolation,
    ];

    /// <summary>Checks every invariant for each tenant; one result per invariant, with the violations of all tenants.</summary>
    public async Task<IReadOnlyList<InvariantResult>> CheckAsync(IReadOnlyList<TenantRecord> tenantsToCheck, CancellationToken cancellationToken)
    {
        var checkedCounts = All.ToDictionary(invariant => invariant, _ => 0L);
        var violations = All.ToDictionary(invariant => invariant, _ => new List<InvariantViolation>());
        foreach (var tenant in tenantsToCheck)
        {
            foreach (var invariant in All)
            {
                await using var unitOfWork = await tenants.BeginAsync(tenant.Id, cancellationToken);
                var (count, details) = await CheckAsync(invariant, unitOfWork, cancellationToken);
                checkedCounts[invariant] += count;
                violations[invariant].AddRange(details.Select(detail => new InvariantViolation(tenant.Slug, invariant.Name, detail)));
            }
        }

        return All.Select(invariant => new InvariantResult(invariant, checkedCounts[invariant], violations[invariant])).ToList();
    }

    private Task<(long Checked, IReadOnlyList<string> Violations)> CheckAsync(Invariant invariant, TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        if (invariant == ImportsWhole)
        {
            return SqlCheckAsync(unitOfWork, "select count(*) from imports", ImportsWholeSql, cancellationToken);
        }

        if (invariant == KeptFilesMatch)
        {
            return KeptFilesMatchAsync(unitOfWork, cancellationToken);
        }

        if (invariant == DecisionsHaveEvidence)
        {
            return SqlCheckAsync(unitOfWork, "select count(*) from match_decisions", DecisionsHaveEvidenceSql, cancellationToken);
        }

        if (invariant == QuantityLedger)
        {
            return SqlCheckAsync(unitOfWork, BookedLinesCountSql, QuantityLedgerSql, cancellationToken);
        }

        if (invariant == InvoiceStatusCurrent)
        {
            return SqlCheckAsync(unitOfWork, "select count(*) from invoices", InvoiceStatusCurrentSql, cancellationToken);
        }

        if (invariant == ExceptionsCurrent)
        {
            return SqlCheckAsync(unitOfWork, "select count(*) from exceptions", ExceptionsCurrentSql, cancellationToken);
        }

        if (invariant == OutboxDelivering)
        {
            return OutboxDeliveringAsync(unitOfWork, cancellationToken);
        }

        if (invariant == AuditChain)
        {
            return AuditChainAsync(unitOfWork, cancellationToken);
        }

        return invariant == TenantIsolation
            ? TenantIsolationAsync(unitOfWork, cancellationToken)
            : throw new ArgumentOutOfRangeException(nameof(invariant), invariant.Name, "No such invariant.");
    }

    /// <summary>The newest decision of every invoice, as <c>MatchDecisionStore.LatestDecisionsSql</c> orders them.</summary>
    private const string LatestDecisions = """
        with latest as (
            select distinct on (invoice_id) *
            from match_decisions
            order by invoice_id, decided_at desc, id
        )
        """;

    // Audit entries are counted per import in one pass (an index probe per import would need an index on entity_id).
    private const string ImportsWholeSql = """
        with audited as (
            select entity_id, action, count(*) as entries from audit_log where entity = 'import' group by entity_id, action
        ),
        documents as (
            select import_id, count(*) as n from vendors where import_id is not null group by import_id
            union all select import_id, count(*) from purchase_orders where import_id is not null group by import_id
            union all select import_id, count(*) from receipts where import_id is not null group by import_id
            union all select import_id, count(*) from invoices group by import_id
        ),
        invoice_lines_per_import as (
            select i.import_id, count(l.id) as lines, count(*) filter (where l.id is null) as invoices_without_lines
            from invoices i left join invoice_lines l on l.invoice_id = i.id
            group by i.import_id
        ),
        problems as (
            select m.id, m.import_no, m.file_name, m.kind, m.status, m.completed_at, m.error_count, m.stored_count,
                   coalesce(a.entries, 0) as audit_entries,
                   coalesce((select sum(d.n) from documents d where d.import_id = m.id), 0) as documents,
                   coalesce(l.lines, 0) as lines, coalesce(l.invoices_without_lines, 0) as invoices_without_lines
            from imports m
            left join audited a on a.entity_id = m.id::text and a.action = 'import.' || m.status
            left join invoice_lines_per_import l on l.import_id = m.id
        )
        select format('import %s (#%s, %s, %s): %s', id, import_no, kind, file_name, concat_ws('; ',
                   case when status not in ('stored', 'rejected') then format('left in status %s', status) end,
                   case when completed_at is null then 'no completion time' end,
                   case when status in ('stored', 'rejected') and audit_entries <> 1 then format('%s ''import.%s'' audit entries, expected 1', audit_entries, status) end,
                   case when status = 'rejected' and documents > 0 then format('rejected, yet %s documents reference it', documents) end,
                   case when status = 'rejected' and error_count = 0 then 'rejected without errors' end,
                   case when status = 'stored' and kind = 'invoices' and lines <> stored_count then format('%s invoice lines stored, its record says %s', lines, stored_count) end,
                   case when invoices_without_lines > 0 then format('%s invoices without lines', invoices_without_lines) end))
        from problems
        where status not in ('stored', 'rejected') or completed_at is null
           or (status in ('stored', 'rejected') and audit_entries <> 1)
           or (status = 'rejected' and (documents > 0 or error_count = 0))
           or (status = 'stored' and kind = 'invoices' and lines <> stored_count)
           or invoices_without_lines > 0
        order by import_no
        """;

    private const string DecisionsHaveEvidenceSql = """
        with lines as (
            select il.invoice_id, count(*) as n from invoice_lines il group by il.invoice_id
        ),
        decided_lines as (
            select ld.match_decision_id, count(*) as n,
                   count(*) filter (where coalesce(ld.explanation->>'text', '') = '') as without_text,
                   count(*) filter (where ld.purchase_order_line_id is not null and json_typeof(ld.explanation->'evidence') is distinct from 'object') as without_figures
            from line_decisions ld group by ld.match_decision_id
        ),
        problems as (
            select d.id, d.invoice_id, d.invoice_status,
                   coalesce(d.explanation->>'text', '') = '' as explanation_without_text,
                   json_typeof(d.evidence->'vendor') is distinct from 'object' or json_typeof(d.evidence->'po') is distinct from 'object'
                       or json_typeof(d.evidence->'totals') is distinct from 'object' as evidence_incomplete,
                   coalesce(l.n, 0) as invoice_lines, coalesce(dl.n, 0) as line_decisions,
                   coalesce(dl.without_text, 0) as without_text, coalesce(dl.without_figures, 0) as without_figures
            from match_decisions d
            left join lines l on l.invoice_id = d.invoice_id
            left join decided_lines dl on dl.match_decision_id = d.id
        )
        select format('decision %s (invoice %s, %s): %s', id, invoice_id, invoice_status, concat_ws('; ',
                   case when explanation_without_text then 'explanation without text' end,
                   case when evidence_incomplete then 'evidence without vendor, po or totals' end,
                   case when line_decisions <> invoice_lines then format('%s line decisions for %s invoice lines', line_decisions, invoice_lines) end,
                   case when without_text > 0 then format('%s line decisions without explanation text', without_text) end,
                   case when without_figures > 0 then format('%s lines paired with a PO line without their figures', without_figures) end))
        from problems
        where explanation_without_text or evidence_incomplete or line_decisions <> invoice_lines or without_text > 0 or without_figures > 0
        order by invoice_id, id
        """;

    private const string BookedLinesCountSql = $"""
        {LatestDecisions}
        select count(*) from latest d join line_decisions ld on ld.match_decision_id = d.id where ld.purchase_order_line_id is not null
        """;

    private const string QuantityLedgerSql = $"""
        {LatestDecisions},
        booked as (
            select d.id as decision_id, d.invoice_id, d.invoice_status, d.purchase_order_id, il.line_no, il.quantity,
                   pl.id as po_line_id, pl.purchase_order_id as po_line_po, pl.quantity as ordered, pl.receipt_required,
                   ld.explanation->'evidence' as figures
            from latest d
            join line_decisions ld on ld.match_decision_id = d.id
            join invoice_lines il on il.id = ld.invoice_line_id
            join purchase_order_lines pl on pl.id = ld.purchase_order_line_id
        ),
        problems as (
            select *,
                   (figures->>'invoicedQuantity')::numeric as booked_quantity,
                   (figures->>'ordered')::numeric as booked_ordered,
                   (figures->>'receiptRequired')::boolean as booked_receipt_required
            from booked
            where json_typeof(figures) = 'object'
        )
        select format('decision %s (invoice %s, %s), line %s on PO line %s: %s', decision_id, invoice_id, invoice_status, line_no, po_line_id, concat_ws('; ',
                   case when invoice_status = 'duplicate' then 'a duplicate books quantity' end,
                   case when po_line_po is distinct from purchase_order_id then format('the PO line belongs to PO %s, the decision''s PO is %s', po_line_po, purchase_order_id) end,
                   case when booked_quantity is distinct from quantity then format('books %s, the invoice line''s quantity is %s', booked_quantity, quantity) end,
                   case when booked_ordered is distinct from ordered then format('books against %s ordered, the PO line orders %s', booked_ordered, ordered) end,
                   case when booked_receipt_required is distinct from receipt_required then format('receiptRequired %s, the PO line says %s', booked_receipt_required, receipt_required) end))
        from problems
        where invoice_status = 'duplicate' or po_line_po is distinct from purchase_order_id or booked_quantity is distinct from quantity
           or booked_ordered is distinct from ordered or booked_receipt_required is distinct from receipt_required
        order by invoice_id, line_no
        """;

    private const string InvoiceStatusCurrentSql = $"""
        {LatestDecisions}
        select format('invoice %s (%s): stored as %s, vendor %s, PO %s; its current decision %s says %s, vendor %s, PO %s',
                      i.id, i.invoice_number, i.status, coalesce(i.vendor_id::text, '-'), coalesce(i.purchase_order_id::text, '-'),
                      coalesce(d.id::text, '(none)'), coalesce(d.invoice_status, 'pending'), coalesce(d.vendor_id::text, '-'), coalesce(d.purchase_order_id::text, '-'))
        from invoices i
        left join latest d on d.invoice_id = i.id
        where i.status is distinct from coalesce(d.invoice_status, 'pending')
           or (d.id is not null and (i.vendor_id, i.purchase_order_id) is distinct from (d.vendor_id, d.purchase_order_id))
        order by i.id
        """;

    private const string ExceptionsCurrentSql = $"""
        {LatestDecisions},
        open_exceptions as (
            select * from exceptions where status in ('open', 'in_review')
        ),
        open_per_invoice as (
            select invoice_id, count(*) as n from open_exceptions group by invoice_id
        )
        select format('exception %s (invoice %s): references decision %s, which is not a decision of its invoice', e.id, e.invoice_id, e.match_decision_id)
        from exceptions e
        where not exists (select from match_decisions d where d.id = e.match_decision_id and d.invoice_id = e.invoice_id)
        union all
        select format('exception %s (invoice %s, %s): references decision %s, the current decision is %s', e.id, e.invoice_id, e.status, e.match_decision_id, d.id)
        from open_exceptions e join latest d on d.invoice_id = e.invoice_id
        where d.id <> e.match_decision_id
        union all
        select format('exception %s (invoice %s) is %s, but the invoice''s current decision %s is %s', e.id, e.invoice_id, e.status, d.id, d.invoice_status)
        from open_exceptions e join latest d on d.invoice_id = e.invoice_id
        where d.invoice_status not in ('exception', 'no_po', 'duplicate')
        union all
        select format('invoice %s: its current decision %s is %s, but it has %s open exceptions (expected 1)', d.invoice_id, d.id, d.invoice_status, coalesce(o.n, 0))
        from latest d left join open_per_invoice o on o.invoice_id = d.invoice_id
        where (d.invoice_status in ('exception', 'no_po', 'duplicate') and coalesce(o.n, 0) <> 1) or o.n > 1
        """;

    private static async Task<(long, IReadOnlyList<string>)> SqlCheckAsync(
        TenantUnitOfWork unitOfWork, string countSql, string violationsSql, CancellationToken cancellationToken)
    {
        // No timeout: a check reads a whole tenant, however large; the caller's cancellation bounds it.
        // SQL: each invariant is written as its own count and violations query.
        var count = await unitOfWork.Db.WithCommandTimeout(0, db => db.ExecuteAsync<long>(countSql, cancellationToken));
        var violations = await unitOfWork.Db.WithCommandTimeout(0, db => db.QueryToListAsync<string>(violationsSql, cancellationToken));
        return (count, violations);
    }

    private async Task<(long, IReadOnlyList<string>)> KeptFilesMatchAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var kept = await unitOfWork.Db.GetTable<KeptImportRow>()
            .Where(import => import.ContentBlob != null)
            .OrderBy(import => import.ImportNo)
            .Select(import => new { import.Id, import.ImportNo, import.FileName, Sha256 = import.ContentSha256, Prefix = import.ContentBlob! })
            .ToListAsync(cancellationToken);
        if (kept.Count == 0)
        {
            return (0, []);
        }

        // One listing of the tenant's kept files rather than one per import (the file system store walks its whole folder each time).
        var chunksByPrefix = (await blobs.ListAsync(KeptFiles.Root(unitOfWork.TenantId), cancellationToken))
            .GroupBy(name => name[..(name.LastIndexOf('/') + 1)], StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var violations = new List<string>();
        foreach (var import in kept)
        {
            var subject = $"import {import.Id} (#{import.ImportNo}, {import.FileName}), kept at {import.Prefix}";
            var chunks = chunksByPrefix.GetValueOrDefault(import.Prefix) ?? [];
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            string? problem = null;
            foreach (var chunk in chunks)
            {
                // Chunks are named by their byte offset: a missing or shortened one shows as a gap before the next.
                if (!long.TryParse(chunk.AsSpan(import.Prefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset) || offset != length)
                {
                    problem = $"chunk {chunk} where offset {length} was expected";
                    break;
                }

                var data = await blobs.GetAsync(chunk, cancellationToken);
                if (data is null)
                {
                    problem = $"chunk {chunk} vanished while it was read";
                    break;
                }

                hash.AppendData(data);
                length += data.Length;
            }

            if (problem is null)
            {
                var actual = hash.GetHashAndReset();
                if (!actual.AsSpan().SequenceEqual(import.Sha256))
                {
                    problem = chunks.Count == 0
                        ? "the kept file is missing (no chunks)"
                        : $"the kept copy ({length} bytes in {chunks.Count} chunks) hashes to {Convert.ToHexStringLower(actual)}, the record says {Convert.ToHexStringLower(import.Sha256)}";
                }
            }

            if (problem is not null)
            {
                violations.Add($"{subject}: {problem}");
            }
        }

        return (kept.Count, violations);
    }

    private async Task<(long, IReadOnlyList<string>)> OutboxDeliveringAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        // SQL: the invariant's own count; the violations below are formatted with format()/concat_ws().
        var count = await unitOfWork.Db.ExecuteAsync<long>(
            "select count(*) from outbox", cancellationToken);
        var violations = await unitOfWork.Db.QueryToListAsync<string>(
            """
            select format('event %s (%s, position %s): %s', o.id, o.topic, o.position, concat_ws('; ',
                       case when o.attempts >= @maxAttempts then format('undelivered after %s attempts, yet not a dead letter (limit %s)', o.attempts, @maxAttempts) end,
                       case when o.attempts > 0 and o.last_error is null then format('%s failed attempts without an error', o.attempts) end,
                       case when exists (select from outbox_dead_letters dl where dl.id = o.id) then 'pending and a dead letter at once' end))
            from outbox o
            where o.published_at is null
              and (o.attempts >= @maxAttempts or (o.attempts > 0 and o.last_error is null) or exists (select from outbox_dead_letters dl where dl.id = o.id))
            order by o.position
            """, new { maxAttempts = events.MaxAttempts }, cancellationToken);
        return (count, violations.ToList());
    }

    private static async Task<(long, IReadOnlyList<string>)> AuditChainAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var verification = await AuditLog.VerifyChainAsync(unitOfWork, cancellationToken);
        if (verification.IsIntact)
        {
            return (verification.EntriesChecked, []);
        }

        var action = await unitOfWork.Db.GetTable<AuditTrail.AuditLogRow>()
            .Where(entry => entry.Seq == verification.FirstBrokenSequence)
            .Select(entry => entry.Action)
            .FirstOrDefaultAsync(cancellationToken);
        return (verification.EntriesChecked,
            [$"entry #{verification.FirstBrokenSequence} ({action ?? "missing"}) breaks the chain: its hash, its link to its predecessor or its number is wrong"]);
    }

    private static async Task<(long, IReadOnlyList<string>)> TenantIsolationAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        // From the catalog, so that a table added later is covered without a change here.
        // SQL: reads the pg_class catalog and has_table_privilege(), which have no mapping.
        var tables = await unitOfWork.Db.QueryToListAsync(
            reader => (Name: reader.GetString(0), Enabled: reader.GetBoolean(1), Forced: reader.GetBoolean(2), Readable: reader.GetBoolean(3)),
            """
            select c.relname, c.relrowsecurity, c.relforcerowsecurity, has_table_privilege(c.oid, 'select')
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
            where n.nspname = 'public' and c.relkind in ('r', 'p')
            order by c.relname
            """, cancellationToken);
        var violations = new List<string>();
        foreach (var table in tables.Where(table => !table.Enabled || !table.Forced))
        {
            violations.Add($"table {table.Name}: row-level security is {(table.Enabled ? "enabled but not forced" : "not enabled")}");
        }

        // Tables the application role cannot read show it nothing of anyone; the check above still covers them.
        var readable = tables.Where(table => table.Readable).Select(table => (table.Name, Column: "tenant_id")).Append(("tenants", "id")).ToList();
        foreach (var (name, column) in readable)
        {
            // SQL: the table name comes from the catalog, so the statement is built per table.
            var visible = await unitOfWork.Db.WithCommandTimeout(0, db => db.ExecuteAsync<long>(
                $"select count(*) from {QuoteIdentifier(name)} where {column} is distinct from @tenantId", new { tenantId = unitOfWork.TenantId }, cancellationToken));
            if (visible > 0)
            {
                var others = await unitOfWork.Db.QueryToListAsync<Guid>(
                    $"select distinct {column} from {QuoteIdentifier(name)} where {column} is distinct from @tenantId limit 5", new { tenantId = unitOfWork.TenantId }, cancellationToken);
                violations.Add($"table {name}: {visible} row(s) of other tenants visible (tenant ids {string.Join(", ", others)})");
            }
        }

        return (readable.Count, violations);
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
