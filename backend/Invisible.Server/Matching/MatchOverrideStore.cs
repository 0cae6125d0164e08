using System.Text.Json;
using LinqToDB.Data;
using Invisible.Data.Tenancy;

namespace Invisible.Server.Matching;

/// <summary>A reviewer's pairing of one invoice line (its <c>line_no</c>) with a line of the chosen PO.</summary>
public sealed record LinePairingOverride(int InvoiceLineNo, int PoLineNo);

/// <summary>A reviewer's re-match: every later evaluation pairs the invoice with this PO (and these lines).</summary>
public sealed record RematchOverride(Guid InvoiceId, string PoNumber, IReadOnlyList<LinePairingOverride> Lines, string Reason, string CreatedBy);

/// <summary>The reviewers' instructions in force for a tenant.</summary>
/// <param name="Rematches">The newest re-match of each invoice that has one.</param>
/// <param name="NotDuplicates">Invoices confirmed "not a duplicate".</param>
public sealed record MatchOverrides(IReadOnlyDictionary<Guid, RematchOverride> Rematches, IReadOnlySet<Guid> NotDuplicates);

/// <summary>Stores reviewers' instructions (migration 0004 <c>match_overrides</c>, append-only) that evaluations honour.</summary>
public static class MatchOverrideStore
{
    public static Task AddRematchAsync(TenantUnitOfWork unitOfWork, RematchOverride rematch, CancellationToken cancellationToken) =>
        // SQL: the line pairings are cast to jsonb in the statement; LINQ conversion pending (issue #18).
        unitOfWork.Db.ExecuteAsync(
            """
            insert into match_overrides (tenant_id, invoice_id, kind, po_number, line_pairings, reason, created_by)
            values (@tenantId, @invoiceId, 'rematch', @poNumber, @lines::jsonb, @reason, @createdBy)
            """, new
            {
                tenantId = unitOfWork.TenantId,
                invoiceId = rematch.InvoiceId,
                poNumber = rematch.PoNumber,
                lines = JsonSerializer.Serialize(rematch.Lines, MatchDecisionStore.EvidenceJson),
                reason = rematch.Reason,
                createdBy = rematch.CreatedBy,
            }, cancellationToken);

    public static Task AddNotDuplicateAsync(TenantUnitOfWork unitOfWork, Guid invoiceId, string reason, string createdBy, CancellationToken cancellationToken) =>
        // SQL (LINQ conversion pending, issue #18): single-row insert, ported mechanically from Dapper.
        unitOfWork.Db.ExecuteAsync(
            """
            insert into match_overrides (tenant_id, invoice_id, kind, reason, created_by)
            values (@tenantId, @invoiceId, 'not_duplicate', @reason, @createdBy)
            """, new { tenantId = unitOfWork.TenantId, invoiceId, reason, createdBy }, cancellationToken);

    public static async Task<MatchOverrides> LoadAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        // SQL: 'distinct on' keeps each invoice's newest override of each kind, and the jsonb pairings are read as text.
        var rows = (await unitOfWork.Db.QueryToListAsync<OverrideRow>(
            """
            select distinct on (invoice_id, kind) invoice_id as InvoiceId, kind as Kind, po_number as PoNumber, line_pairings::text as Lines,
                   reason as Reason, created_by as CreatedBy
            from match_overrides
            order by invoice_id, kind, created_at desc, id
            """, cancellationToken)).ToList();
        var rematches = rows
            .Where(row => row.Kind == "rematch")
            .ToDictionary(row => row.InvoiceId, row => new RematchOverride(
                row.InvoiceId,
                row.PoNumber!,
                JsonSerializer.Deserialize<List<LinePairingOverride>>(row.Lines, MatchDecisionStore.EvidenceJson) ?? [],
                row.Reason,
                row.CreatedBy));
        return new MatchOverrides(rematches, rows.Where(row => row.Kind == "not_duplicate").Select(row => row.InvoiceId).ToHashSet());
    }

    private sealed class OverrideRow
    {
        public Guid InvoiceId { get; init; }
        public string Kind { get; init; } = "";
        public string? PoNumber { get; init; }
        public string Lines { get; init; } = "[]";
        public string Reason { get; init; } = "";
        public string CreatedBy { get; init; } = "";
    }
}
