using System.Text.Json;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Vendors;
using Invisible.Server.Errors;
using Invisible.Server.FieldEncryption;
using Invisible.Server.Matching;
using Invisible.Server.Matching.Models;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace Invisible.Server.Vendors;

/// <summary>A merge as people see it: who merged which vendors into which, what moved, and whether it was undone.</summary>
public sealed record VendorMergeView(
    Guid Id, string SurvivorCode, IReadOnlyList<string> MergedCodes, string MergedBy, DateTime MergedAt, string? UnmergedBy, DateTime? UnmergedAt,
    int MovedAliases, int MovedPurchaseOrders, int MovedInvoices, int ReevaluatedInvoices);

/// <summary>
/// Merging vendors of the master that are one company, and undoing it. The survivor keeps its code; each merged vendor
/// stays in the master (decisions made about it keep their reference) marked <c>merged_into</c>, and the resolver, the
/// vendor list and the duplicate clusters leave it out. Its name becomes a confirmed alias of the survivor (decision
/// <c>merge</c>), its own aliases, purchase orders and invoices move to the survivor (open exceptions follow their
/// invoices), and the tenant's decided invoices are re-decided. The merge row keeps exactly what changed (<see cref="MergeChanges"/>):
/// an unmerge restores those rows and re-decides again, so every invoice is back to the outcome it had. Decisions and audit
/// entries are append-only history and stay. An unmerge is refused once a person decided an affected invoice, a moved row
/// was changed, or a later merge built on this one.
/// </summary>
public sealed class VendorMerges(TenantDatabase tenants, TimeProvider time, PersonalDataKeys personalDataKeys, SimilarityModelRetraining retraining,
    ILogger<VendorMerges> logger)
{
    public const string ErrorDomain = "vendors.invisible.app";

    public async Task<VendorMergeView> MergeAsync(
        Guid tenantId, string survivorCode, IReadOnlyList<string> mergedCodes, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var redecision = await InvoiceRedecision.BeginAsync(unitOfWork, time, await personalDataKeys.DataAsync(cancellationToken), cancellationToken);
        var db = unitOfWork.Db;
        var survivor = await MasterVendorAsync(unitOfWork, survivorCode, "survivor_code", cancellationToken);
        var merged = new List<VendorTableRow>();
        foreach (var (code, index) in mergedCodes.Select((code, index) => (code, index)))
        {
            var vendor = await MasterVendorAsync(unitOfWork, code, $"merged_codes[{index}]", cancellationToken);
            if (vendor.Id == survivor.Id || merged.Any(other => other.Id == vendor.Id))
            {
                throw DomainException.InvalidArgument(
                    "Name each vendor to merge once, and not the survivor.", new FieldViolation($"merged_codes[{index}]", $"{vendor.Code} is named twice"));
            }

            merged.Add(vendor);
        }

        if (merged.Count == 0)
        {
            throw DomainException.InvalidArgument("Name at least one vendor to merge into the survivor.", new FieldViolation("merged_codes", "must not be empty"));
        }

        var mergedIds = merged.Select(vendor => vendor.Id).ToList();
        var nameKeys = merged.Select(vendor => VendorName.Parse(vendor.Name).Key).Where(key => key.Length > 0).Distinct().ToList();
        var aliases = db.GetTable<AliasState>();
        var aliasesBefore = await aliases
            .Where(alias => mergedIds.Contains(alias.VendorId) || (alias.Kind == "name" && nameKeys.Contains(alias.NormalizedValue)))
            .ToListAsync(cancellationToken);
        var openBefore = await OpenExceptionsAsync(unitOfWork, cancellationToken);

        await aliases.Where(alias => mergedIds.Contains(alias.VendorId)).Set(alias => alias.VendorId, survivor.Id).UpdateAsync(cancellationToken);
        foreach (var vendor in merged.Where(vendor => VendorName.Parse(vendor.Name).Key.Length > 0))
        {
            await ConfirmedAliases.ConfirmAsync(unitOfWork, vendor.Name, survivor.Code, AliasDecisions.Merge, actor, null, requestId, cancellationToken);
        }

        var aliasesAfter = await aliases
            .Where(alias => mergedIds.Contains(alias.VendorId) || alias.VendorId == survivor.Id)
            .ToListAsync(cancellationToken);
        var beforeIds = aliasesBefore.Select(alias => alias.Id).ToHashSet();
        var aliasesAdded = aliasesAfter.Where(alias => alias.Kind == "name" && nameKeys.Contains(alias.NormalizedValue) && !beforeIds.Contains(alias.Id))
            .Select(alias => alias.Id).ToList();
        var afterById = aliasesAfter.ToDictionary(alias => alias.Id);
        var aliasesChanged = aliasesBefore.Where(alias => !afterById.TryGetValue(alias.Id, out var now) || now != alias).ToList();

        var purchaseOrders = await db.GetTable<DocumentVendor>().TableName("purchase_orders")
            .Where(row => mergedIds.Contains(row.VendorId!.Value)).ToListAsync(cancellationToken);
        await db.GetTable<DocumentVendor>().TableName("purchase_orders")
            .Where(row => mergedIds.Contains(row.VendorId!.Value)).Set(row => row.VendorId, survivor.Id).UpdateAsync(cancellationToken);
        var invoices = await db.GetTable<DocumentVendor>().TableName("invoices")
            .Where(row => mergedIds.Contains(row.VendorId!.Value)).ToListAsync(cancellationToken);
        await db.GetTable<DocumentVendor>().TableName("invoices")
            .Where(row => mergedIds.Contains(row.VendorId!.Value)).Set(row => row.VendorId, survivor.Id).UpdateAsync(cancellationToken);
        await db.GetTable<VendorTableRow>().Where(vendor => mergedIds.Contains(vendor.Id)).Set(vendor => vendor.MergedInto, survivor.Id).UpdateAsync(cancellationToken);

        var reevaluated = await redecision.ReevaluateAsync(actor, new HashSet<Guid>(), eligible: null, cancellationToken);
        var openAfter = (await OpenExceptionsAsync(unitOfWork, cancellationToken)).ToDictionary(exception => exception.Id);
        var exceptionsChanged = await ChangedExceptionsAsync(unitOfWork, openBefore, openAfter, cancellationToken);
        var openBeforeIds = openBefore.Select(exception => exception.Id).ToHashSet();
        var changes = new MergeChanges(
            aliasesChanged, aliasesAdded,
            purchaseOrders.Select(row => new VendorMove(row.Id, row.VendorId!.Value)).ToList(),
            invoices.Select(row => new VendorMove(row.Id, row.VendorId!.Value)).ToList(),
            exceptionsChanged,
            openAfter.Keys.Where(id => !openBeforeIds.Contains(id)).ToList(),
            reevaluated.Select(invoice => invoice.InvoiceId).ToList());

        var mergeId = Guid.NewGuid();
        await db.InsertAsync(new MergeRow
        {
            Id = mergeId, TenantId = tenantId, SurvivorId = survivor.Id, MergedVendorIds = mergedIds.ToArray(),
            Changes = JsonSerializer.Serialize(changes, JsonSerializerOptions.Web), MergedBy = actor, MergedAt = redecision.DecidedAt,
        }, token: cancellationToken);
        var view = new VendorMergeView(
            mergeId, survivor.Code, merged.Select(vendor => vendor.Code).ToList(), actor, redecision.DecidedAt, null, null,
            aliasesChanged.Count + aliasesAdded.Count, purchaseOrders.Count, invoices.Count, reevaluated.Count);
        await redecision.RecordAsync(
            new RedecisionAudit(actor, "vendors.merge", "vendor", survivor.Code,
                Before: new { vendors = merged.Select(vendor => new { vendor.Code, vendor.Name }) },
                After: new { mergeId, survivorCode = survivor.Code, mergedCodes = view.MergedCodes, view.MovedAliases, view.MovedPurchaseOrders, view.MovedInvoices },
                requestId),
            cause: "vendors_merge", alsoChanged: invoices.Select(row => row.Id).ToList(), cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        retraining.Request(tenantId);
        logger.LogInformation(
            "Tenant {TenantId}: {Count} vendor(s) merged into {Survivor} by {Actor}; {Reevaluated} invoice(s) re-decided",
            tenantId, merged.Count, survivor.Code, actor, reevaluated.Count);
        return view;
    }

    public async Task<VendorMergeView> UnmergeAsync(Guid tenantId, Guid mergeId, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var redecision = await InvoiceRedecision.BeginAsync(unitOfWork, time, await personalDataKeys.DataAsync(cancellationToken), cancellationToken);
        var db = unitOfWork.Db;
        var merge = await db.GetTable<MergeRow>().Where(row => row.Id == mergeId).FirstOrDefaultAsync(cancellationToken)
            ?? throw DomainException.WithReason(ErrorKind.NotFound, $"No vendor merge {mergeId}.", "MERGE_NOT_FOUND", ErrorDomain);
        if (merge.UnmergedAt is not null)
        {
            throw Refused("MERGE_ALREADY_UNDONE", $"This merge was already undone by {merge.UnmergedBy}.");
        }

        var changes = JsonSerializer.Deserialize<MergeChanges>(merge.Changes, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException($"Vendor merge {mergeId} has no changes recorded.");
        var vendorIds = merge.MergedVendorIds.Append(merge.SurvivorId).ToList();
        var vendors = await db.GetTable<VendorTableRow>().Where(vendor => vendorIds.Contains(vendor.Id)).ToListAsync(cancellationToken);
        var survivor = vendors.Single(vendor => vendor.Id == merge.SurvivorId);
        await RequireUnchangedSinceAsync(unitOfWork, merge, changes, vendors, cancellationToken);

        var aliases = db.GetTable<AliasState>();
        await aliases.Where(alias => changes.AliasesAdded.Contains(alias.Id)).DeleteAsync(cancellationToken);
        foreach (var alias in changes.AliasesBefore)
        {
            await db.UpdateAsync(alias, token: cancellationToken);
        }

        foreach (var (table, moves) in new[] { ("purchase_orders", changes.PurchaseOrders), ("invoices", changes.Invoices) })
        {
            foreach (var group in moves.GroupBy(move => move.PreviousVendorId))
            {
                var ids = group.Select(move => move.Id).ToList();
                await db.GetTable<DocumentVendor>().TableName(table)
                    .Where(row => ids.Contains(row.Id) && row.VendorId == merge.SurvivorId)
                    .Set(row => row.VendorId, group.Key)
                    .UpdateAsync(cancellationToken);
            }
        }

        foreach (var exception in changes.ExceptionsBefore)
        {
            await db.GetTable<ExceptionState>().Where(row => row.Id == exception.Id)
                .Set(row => row.Status, exception.Status)
                .Set(row => row.Reason, exception.Reason)
                .Set(row => row.AssigneeId, exception.AssigneeId)
                .Set(row => row.ResolvedAt, exception.ResolvedAt)
                .Set(row => row.ResolvedBy, exception.ResolvedBy)
                .Set(row => row.ResolutionNote, exception.ResolutionNote)
                .UpdateAsync(cancellationToken);
        }

        var mergedIds = merge.MergedVendorIds.ToList();
        await db.GetTable<VendorTableRow>().Where(vendor => mergedIds.Contains(vendor.Id)).Set(vendor => vendor.MergedInto, (Guid?)null).UpdateAsync(cancellationToken);
        var reevaluated = await redecision.ReevaluateAsync(actor, new HashSet<Guid>(), eligible: null, cancellationToken);
        await db.GetTable<MergeRow>().Where(row => row.Id == mergeId)
            .Set(row => row.UnmergedBy, actor)
            .Set(row => row.UnmergedAt, redecision.DecidedAt)
            .UpdateAsync(cancellationToken);

        var mergedCodes = merge.MergedVendorIds.Select(id => vendors.Single(vendor => vendor.Id == id).Code).ToList();
        await redecision.RecordAsync(
            new RedecisionAudit(actor, "vendors.unmerge", "vendor", survivor.Code,
                Before: new { mergeId, survivorCode = survivor.Code, mergedCodes },
                After: new
                {
                    restoredAliases = changes.AliasesBefore.Count, removedAliases = changes.AliasesAdded.Count,
                    restoredPurchaseOrders = changes.PurchaseOrders.Count, restoredInvoices = changes.Invoices.Count,
                    restoredExceptions = changes.ExceptionsBefore.Count,
                },
                requestId),
            cause: "vendors_unmerge", alsoChanged: changes.Invoices.Select(move => move.Id).ToList(), cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        retraining.Request(tenantId);
        logger.LogInformation("Tenant {TenantId}: merge {MergeId} into {Survivor} undone by {Actor}", tenantId, mergeId, survivor.Code, actor);
        return new VendorMergeView(
            mergeId, survivor.Code, mergedCodes, merge.MergedBy, DateTime.SpecifyKind(merge.MergedAt, DateTimeKind.Utc), actor, redecision.DecidedAt,
            changes.AliasesBefore.Count + changes.AliasesAdded.Count, changes.PurchaseOrders.Count, changes.Invoices.Count, reevaluated.Count);
    }

    /// <summary>Merges into the vendor, newest first.</summary>
    public static async Task<IReadOnlyList<VendorMergeView>> OfVendorAsync(TenantUnitOfWork unitOfWork, Guid vendorId, CancellationToken cancellationToken)
    {
        var db = unitOfWork.Db;
        var rows = await db.GetTable<MergeRow>()
            .Where(row => row.SurvivorId == vendorId)
            .OrderByDescending(row => row.MergedAt)
            .ToListAsync(cancellationToken);
        var ids = rows.SelectMany(row => row.MergedVendorIds.Append(row.SurvivorId)).Distinct().ToList();
        var codes = await db.GetTable<VendorTableRow>().Where(vendor => ids.Contains(vendor.Id)).ToDictionaryAsync(vendor => vendor.Id, vendor => vendor.Code, cancellationToken);
        return rows.Select(row =>
        {
            var changes = JsonSerializer.Deserialize<MergeChanges>(row.Changes, JsonSerializerOptions.Web)!;
            return new VendorMergeView(
                row.Id, codes[row.SurvivorId], row.MergedVendorIds.Select(id => codes[id]).ToList(), row.MergedBy,
                DateTime.SpecifyKind(row.MergedAt, DateTimeKind.Utc), row.UnmergedBy,
                row.UnmergedAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null,
                changes.AliasesBefore.Count + changes.AliasesAdded.Count, changes.PurchaseOrders.Count, changes.Invoices.Count, changes.ReevaluatedInvoices.Count);
        }).ToList();
    }

    /// <summary>Remembers that two vendors are not one company, so the duplicate clusters stop joining them. Audited.</summary>
    public async Task DismissAsync(Guid tenantId, string firstCode, string secondCode, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var first = await MasterVendorAsync(unitOfWork, firstCode, "first_vendor_code", cancellationToken);
        var second = await MasterVendorAsync(unitOfWork, secondCode, "second_vendor_code", cancellationToken);
        if (first.Id == second.Id)
        {
            throw DomainException.InvalidArgument("Name two different vendors.", new FieldViolation("second_vendor_code", "is the first vendor"));
        }

        var (low, high) = first.Id.CompareTo(second.Id) < 0 ? (first.Id, second.Id) : (second.Id, first.Id);
        // SQL: 'on conflict do nothing' makes dismissing a dismissed pair again a no-op.
        var added = await unitOfWork.Db.ExecuteAsync(
            """
            insert into vendor_duplicate_dismissals (tenant_id, first_vendor_id, second_vendor_id, dismissed_by)
            values (@tenantId, @low, @high, @actor) on conflict do nothing
            """, new { tenantId, low, high, actor }, cancellationToken);
        if (added > 0)
        {
            await Data.Audit.AuditLog.AppendAsync(
                unitOfWork, actor, "vendors.duplicate_dismissed", "vendor", first.Code, null, new { firstVendorCode = first.Code, secondVendorCode = second.Code },
                requestId, cancellationToken);
        }

        await unitOfWork.CommitAsync(cancellationToken);
    }

    /// <summary>The pairs of vendor codes people dismissed as not one company.</summary>
    public static async Task<IReadOnlySet<(string, string)>> DismissedPairsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        var db = unitOfWork.Db;
        var pairs = await (
            from dismissal in db.GetTable<DismissalRow>()
            join first in db.GetTable<VendorTableRow>() on dismissal.FirstVendorId equals first.Id
            join second in db.GetTable<VendorTableRow>() on dismissal.SecondVendorId equals second.Id
            select new { First = first.Code, Second = second.Code }).ToListAsync(cancellationToken);
        return pairs.SelectMany(pair => new[] { (pair.First, pair.Second), (pair.Second, pair.First) }).ToHashSet();
    }

    private static async Task RequireUnchangedSinceAsync(
        TenantUnitOfWork unitOfWork, MergeRow merge, MergeChanges changes, List<VendorTableRow> vendors, CancellationToken cancellationToken)
    {
        var db = unitOfWork.Db;
        var vendorIds = vendors.Select(vendor => vendor.Id).ToList();
        var survivor = vendors.Single(vendor => vendor.Id == merge.SurvivorId);
        if (survivor.MergedInto is not null || await db.GetTable<MergeRow>().AnyAsync(
                row => row.Id != merge.Id && row.UnmergedAt == null && row.MergedAt > merge.MergedAt && vendorIds.Contains(row.SurvivorId), cancellationToken))
        {
            throw Refused("LATER_MERGE", $"{survivor.Code} took part in a later merge; undo that one first.");
        }

        var aliasIds = changes.AliasesBefore.Select(alias => alias.Id).Concat(changes.AliasesAdded).ToList();
        var aliasesStill = await db.GetTable<AliasState>().CountAsync(alias => aliasIds.Contains(alias.Id) && alias.VendorId == merge.SurvivorId, cancellationToken);
        var poIds = changes.PurchaseOrders.Select(move => move.Id).ToList();
        var purchaseOrdersStill = await db.GetTable<DocumentVendor>().TableName("purchase_orders")
            .CountAsync(row => poIds.Contains(row.Id) && row.VendorId == merge.SurvivorId, cancellationToken);
        if (aliasesStill != aliasIds.Count || purchaseOrdersStill != poIds.Count)
        {
            throw Refused("MERGE_CHANGED_SINCE", "A name or purchase order the merge moved has changed since; undoing the merge would overwrite that.");
        }

        var invoiceIds = changes.Invoices.Select(move => move.Id).Concat(changes.ReevaluatedInvoices).Distinct().ToList();
        var decidedByPeople = await db.GetTable<DecisionRow>().CountAsync(
            decision => invoiceIds.Contains(decision.InvoiceId) && decision.DecidedAt > merge.MergedAt && decision.DecidedBy != "engine", cancellationToken);
        if (decidedByPeople > 0)
        {
            throw Refused(
                "MERGE_CHANGED_SINCE",
                $"People decided {decidedByPeople} invoice(s) the merge affected since; undoing it would re-decide them against their decision.");
        }
    }

    private static DomainException Refused(string reason, string message) =>
        DomainException.WithReason(ErrorKind.FailedPrecondition, message, reason, ErrorDomain);

    /// <summary>A vendor of the master (not merged into another) by its code.</summary>
    private static async Task<VendorTableRow> MasterVendorAsync(TenantUnitOfWork unitOfWork, string code, string field, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            throw DomainException.InvalidArgument("Name the vendor by its code.", new FieldViolation(field, "must not be empty"));
        }

        var trimmed = code.Trim();
        var vendors = unitOfWork.Db.GetTable<VendorTableRow>();
        var vendor = await vendors.FirstOrDefaultAsync(row => row.Code == trimmed, cancellationToken)
            ?? throw DomainException.WithReason(ErrorKind.NotFound, $"No vendor '{trimmed}' in your organisation.", "VENDOR_NOT_FOUND", ErrorDomain);
        if (vendor.MergedInto is { } survivorId)
        {
            var survivor = await vendors.Where(row => row.Id == survivorId).Select(row => row.Code).FirstAsync(cancellationToken);
            throw Refused("VENDOR_MERGED", $"{vendor.Code} was merged into {survivor}; use {survivor}.");
        }

        return vendor;
    }

    private static Task<List<ExceptionState>> OpenExceptionsAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        unitOfWork.Db.GetTable<ExceptionState>().Where(exception => exception.Status == "open" || exception.Status == "in_review").ToListAsync(cancellationToken);

    /// <summary>The open exceptions before the merge that its re-decision changed, as they were.</summary>
    private static async Task<List<ExceptionState>> ChangedExceptionsAsync(
        TenantUnitOfWork unitOfWork, List<ExceptionState> openBefore, Dictionary<Guid, ExceptionState> openAfter, CancellationToken cancellationToken)
    {
        var notOpenNow = openBefore.Where(exception => !openAfter.ContainsKey(exception.Id)).Select(exception => exception.Id).ToList();
        var closed = (await unitOfWork.Db.GetTable<ExceptionState>().Where(exception => notOpenNow.Contains(exception.Id)).ToListAsync(cancellationToken))
            .ToDictionary(exception => exception.Id);
        return openBefore
            .Where(exception => (openAfter.TryGetValue(exception.Id, out var now) || closed.TryGetValue(exception.Id, out now)) && now != exception)
            .ToList();
    }

    /// <summary>What a merge changed, as stored in <c>vendor_merges.changes</c>.</summary>
    /// <param name="AliasesBefore">Every alias row the merge changed, with all its columns as they were.</param>
    /// <param name="AliasesAdded">Alias rows the merge inserted (a merged vendor's name no alias had).</param>
    /// <param name="ExceptionsBefore">Open exceptions the merge's re-decision changed, as they were.</param>
    /// <param name="ExceptionsAdded">Exceptions the merge's re-decision opened.</param>
    internal sealed record MergeChanges(
        IReadOnlyList<AliasState> AliasesBefore, IReadOnlyList<Guid> AliasesAdded, IReadOnlyList<VendorMove> PurchaseOrders, IReadOnlyList<VendorMove> Invoices,
        IReadOnlyList<ExceptionState> ExceptionsBefore, IReadOnlyList<Guid> ExceptionsAdded, IReadOnlyList<Guid> ReevaluatedInvoices);

    internal sealed record VendorMove(Guid Id, Guid PreviousVendorId);

    [Table("vendor_aliases")]
    internal sealed record AliasState
    {
        [Column("id"), PrimaryKey] public Guid Id { get; init; }

        [Column("vendor_id")] public Guid VendorId { get; init; }

        [Column("kind")] public string Kind { get; init; } = "";

        [Column("value")] public string Value { get; init; } = "";

        [Column("normalized_value")] public string NormalizedValue { get; init; } = "";

        [Column("source")] public string Source { get; init; } = "";

        [Column("decision")] public string? Decision { get; init; }

        [Column("invoice_id")] public Guid? InvoiceId { get; init; }

        [Column("created_by")] public string? CreatedBy { get; init; }

        [Column("created_at")] public DateTime CreatedAt { get; init; }
    }

    [Table("exceptions")]
    internal sealed record ExceptionState
    {
        [Column("id"), PrimaryKey] public Guid Id { get; init; }

        [Column("status")] public string Status { get; init; } = "";

        [Column("reason")] public string Reason { get; init; } = "";

        [Column("assignee_id")] public Guid? AssigneeId { get; init; }

        [Column("resolved_at")] public DateTime? ResolvedAt { get; init; }

        [Column("resolved_by")] public Guid? ResolvedBy { get; init; }

        [Column("resolution_note")] public string? ResolutionNote { get; init; }
    }

    /// <summary>The vendor reference of a purchase order or an invoice (the table is named at each use).</summary>
    [Table("invoices")]
    private sealed class DocumentVendor
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("vendor_id")] public Guid? VendorId { get; set; }
    }

    [Table("vendors")]
    private sealed class VendorTableRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("vendor_code")] public string Code { get; set; } = "";

        [Column("name")] public string Name { get; set; } = "";

        [Column("merged_into")] public Guid? MergedInto { get; set; }
    }

    [Table("match_decisions")]
    private sealed class DecisionRow
    {
        [Column("invoice_id")] public Guid InvoiceId { get; set; }

        [Column("decided_at")] public DateTime DecidedAt { get; set; }

        [Column("decided_by")] public string DecidedBy { get; set; } = "";
    }

    [Table("vendor_duplicate_dismissals")]
    private sealed class DismissalRow
    {
        [Column("first_vendor_id")] public Guid FirstVendorId { get; set; }

        [Column("second_vendor_id")] public Guid SecondVendorId { get; set; }
    }

    [Table("vendor_merges")]
    private sealed class MergeRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("tenant_id")] public Guid TenantId { get; set; }

        [Column("survivor_id")] public Guid SurvivorId { get; set; }

        [Column("merged_vendor_ids")] public Guid[] MergedVendorIds { get; set; } = [];

        [Column("changes", DataType = DataType.BinaryJson)] public string Changes { get; set; } = "{}";

        [Column("merged_by")] public string MergedBy { get; set; } = "";

        [Column("merged_at")] public DateTime MergedAt { get; set; }

        [Column("unmerged_by")] public string? UnmergedBy { get; set; }

        [Column("unmerged_at")] public DateTime? UnmergedAt { get; set; }
    }
}
