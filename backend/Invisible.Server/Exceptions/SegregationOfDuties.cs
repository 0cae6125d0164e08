using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Server.Errors;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Exceptions;

/// <summary>
/// The tenant's four-eyes rule: when on, an override that lets an invoice through the exception queue (approve, re-match,
/// "not a duplicate") is refused to whoever imported the invoice's file, so one person cannot both bring an invoice in and
/// wave it through. Who may override at all is the RPC's policy (approvers and admins); this is the per-invoice half.
/// </summary>
public static class SegregationOfDuties
{
    public const string FourEyesReason = "FOUR_EYES_REQUIRED";

    public static Task<bool> FourEyesAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        unitOfWork.Db.GetTable<TenantApprovalRow>()
            .Where(tenant => tenant.Id == unitOfWork.TenantId)
            .Select(tenant => tenant.FourEyes)
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>Turns the rule on or off, audited with the value before and after.</summary>
    public static async Task SetFourEyesAsync(
        TenantUnitOfWork unitOfWork, Caller caller, bool fourEyes, string? requestId, CancellationToken cancellationToken)
    {
        var before = await FourEyesAsync(unitOfWork, cancellationToken);
        await unitOfWork.Db.GetTable<TenantApprovalRow>()
            .Where(tenant => tenant.Id == unitOfWork.TenantId)
            .Set(tenant => tenant.FourEyes, fourEyes)
            .UpdateAsync(cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "tenant.approval_policy_changed", "tenant", unitOfWork.TenantId.ToString(),
            new { fourEyes = before }, new { fourEyes }, requestId, cancellationToken);
    }

    /// <summary>Refuses <paramref name="caller"/> when the rule is on and they imported <paramref name="invoiceId"/>.</summary>
    public static async Task RequireSecondPersonAsync(TenantUnitOfWork unitOfWork, Caller caller, Guid invoiceId, CancellationToken cancellationToken)
    {
        if (!await FourEyesAsync(unitOfWork, cancellationToken))
        {
            return;
        }

        var importedBy = await ImportedByAsync(unitOfWork, invoiceId, cancellationToken);
        if (importedBy == caller.UserId)
        {
            throw DomainException.WithReason(
                ErrorKind.PermissionDenied,
                "Four-eyes rule: you imported this invoice, so someone else must approve, re-match or clear it.",
                FourEyesReason,
                ExceptionQueue.ErrorDomain);
        }
    }

    /// <summary>The user or API key that imported the invoice's file; null when a process or the CLI did.</summary>
    public static async Task<Guid?> ImportedByAsync(TenantUnitOfWork unitOfWork, Guid invoiceId, CancellationToken cancellationToken)
    {
        // imports.uploaded_by holds the importing user's or API key's id as text (ImportRequest.Actor).
        var importedBy = await (
                from invoice in unitOfWork.Db.GetTable<InvoiceImportRow>()
                join import in unitOfWork.Db.GetTable<ImportUploaderRow>() on invoice.ImportId equals import.Id
                where invoice.Id == invoiceId
                select import.UploadedBy)
            .FirstOrDefaultAsync(cancellationToken);
        return Guid.TryParse(importedBy, out var id) ? id : null;
    }

    [Table("tenants")]
    private sealed class TenantApprovalRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("four_eyes")] public bool FourEyes { get; set; }
    }

    [Table("invoices")]
    private sealed class InvoiceImportRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("import_id")] public Guid ImportId { get; set; }
    }

    [Table("imports")]
    private sealed class ImportUploaderRow
    {
        [Column("id"), PrimaryKey] public Guid Id { get; set; }

        [Column("uploaded_by")] public string? UploadedBy { get; set; }
    }
}
