using System.Text.Json;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;
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
        unitOfWork.Db.InsertAsync(
            new OverrideInsertRow
            {
                TenantId = unitOfWork.TenantId,
                InvoiceId = rematch.InvoiceId,
                Kind = "rematch",
                PoNumber = rematch.PoNumber,
                LinePairings = JsonSerializer.Serialize(rematch.Lines, MatchDecisionStore.EvidenceJson),
                Reason = rematch.Reason,
                CreatedBy = rematch.CreatedBy,
            },
            token: cancellationToken);

    public static Task AddNotDuplicateAsync(TenantUnitOfWork unitOfWork, Guid invoiceId, string reason, string createdBy, CancellationToken cancellationToken) =>
        unitOfWork.Db.InsertAsync(
            new OverrideInsertRow { TenantId = unitOfWork.TenantId, InvoiceId = invoiceId, Kind = "not_duplicate", Reason = reason, CreatedBy = createdBy },
            token: cancellationToken);

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

    /// <summary>An override as written; its id and time are the table's defaults.</summary>
    [Table("match_overrides")]
    private sealed class OverrideInsertRow
    {
        [Column("tenant_id")] public Guid TenantId { get; init; }

        [Column("invoice_id")] public Guid InvoiceId { get; init; }

        [Column("kind")] public string Kind { get; init; } = "";

        [Column("po_number")] public string? PoNumber { get; init; }

        [Column("line_pairings", DataType = DataType.BinaryJson)] public string LinePairings { get; init; } = "[]";

        [Column("reason")] public string Reason { get; init; } = "";

        [Column("created_by")] public string CreatedBy { get; init; } = "";
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
