using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Vendors;
using Invisible.Server.Errors;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Vendors;

/// <summary>The decisions in which a person says which vendor a printed name is (<c>vendor_aliases.decision</c>).</summary>
public static class AliasDecisions
{
    public const string AssignVendor = "assign_vendor";
    public const string Rematch = "rematch";
    public const string ApproveGuess = "approve_guess";
    public const string KeyedInvoice = "keyed_invoice";
    public const string Merge = "merge";
    public const string Operator = "operator";
}

/// <summary>A printed name a person confirmed for a vendor, and the vendor it named before (null: it was new).</summary>
public sealed record ConfirmedAlias(string PrintedName, string VendorCode, string Decision, string? PreviousVendorCode, bool Changed);

/// <summary>
/// Records printed names people confirmed for a vendor as aliases of source <c>reviewer</c>, with who, when and from which
/// decision, audited in the caller's transaction. A name belongs to one vendor: confirming it for another moves it (the
/// audit entry keeps the vendor it named before). The next matching run takes these names at their word
/// (<see cref="VendorDirectory.FindConfirmed"/>); the similarity model is retrained on them in the background.
/// </summary>
public static class ConfirmedAliases
{
    public const string ErrorDomain = "vendors.invisible.app";

    public static async Task<ConfirmedAlias> ConfirmAsync(
        TenantUnitOfWork unitOfWork, string printedName, string vendorCode, string decision, string actor, Guid? invoiceId, string? requestId,
        CancellationToken cancellationToken)
    {
        var name = printedName.Trim();
        var key = VendorName.Parse(name).Key;
        if (key.Length == 0)
        {
            throw DomainException.InvalidArgument("The printed name has no letters or digits to recognise it by.", new FieldViolation("name", "must contain a word"));
        }

        var vendors = unitOfWork.Db.GetTable<VendorRow>();
        var vendor = await vendors.FirstOrDefaultAsync(row => row.Code == vendorCode.Trim(), cancellationToken)
            ?? throw DomainException.WithReason(ErrorKind.NotFound, $"No vendor '{vendorCode}' in your organisation.", "VENDOR_NOT_FOUND", ErrorDomain);
        if (vendor.MergedInto is { } survivorId)
        {
            var survivor = await vendors.Where(row => row.Id == survivorId).Select(row => row.Code).FirstAsync(cancellationToken);
            throw DomainException.WithReason(ErrorKind.FailedPrecondition, $"{vendor.Code} was merged into {survivor}; confirm the name for {survivor}.", "VENDOR_MERGED", ErrorDomain);
        }

        var aliases = unitOfWork.Db.GetTable<AliasRow>();
        var existing = await aliases.FirstOrDefaultAsync(alias => alias.Kind == "name" && alias.NormalizedValue == key, cancellationToken);
        string? previousCode = null;
        if (existing is not null)
        {
            previousCode = await vendors.Where(row => row.Id == existing.VendorId).Select(row => row.Code).FirstOrDefaultAsync(cancellationToken);
            if (existing.VendorId == vendor.Id && existing.Source == "reviewer")
            {
                return new ConfirmedAlias(name, vendor.Code, existing.Decision ?? decision, previousCode, Changed: false);
            }

            await aliases.Where(alias => alias.Id == existing.Id)
                .Set(alias => alias.VendorId, vendor.Id)
                .Set(alias => alias.Value, name)
                .Set(alias => alias.Source, "reviewer")
                .Set(alias => alias.Decision, decision)
                .Set(alias => alias.InvoiceId, invoiceId)
                .Set(alias => alias.CreatedBy, actor)
                .Set(alias => alias.CreatedAt, Sql.CurrentTimestampUtc)
                .UpdateAsync(cancellationToken);
        }
        else
        {
            await unitOfWork.Db.InsertAsync(new AliasRow
            {
                Id = Guid.NewGuid(),
                TenantId = unitOfWork.TenantId,
                VendorId = vendor.Id,
                Kind = "name",
                Value = name,
                NormalizedValue = key,
                Source = "reviewer",
                Decision = decision,
                InvoiceId = invoiceId,
                CreatedBy = actor,
            }, token: cancellationToken);
        }

        await AuditLog.AppendAsync(
            unitOfWork, actor, "vendors.alias_confirmed", "vendor", vendor.Code,
            existing is null ? null : new { printedName = existing.Value, vendorCode = previousCode, source = existing.Source, decision = existing.Decision },
            new { printedName = name, vendorCode = vendor.Code, decision, invoiceId },
            requestId, cancellationToken);
        return new ConfirmedAlias(name, vendor.Code, decision, previousCode, Changed: true);
    }

    [Table("vendors")]
    private sealed class VendorRow
    {
        [Column("id")]
        public Guid Id { get; set; }

        [Column("vendor_code")]
        public string Code { get; set; } = "";

        [Column("merged_into")]
        public Guid? MergedInto { get; set; }
    }

    [Table("vendor_aliases")]
    internal sealed class AliasRow
    {
        [Column("id"), PrimaryKey]
        public Guid Id { get; set; }

        [Column("tenant_id")]
        public Guid TenantId { get; set; }

        [Column("vendor_id")]
        public Guid VendorId { get; set; }

        [Column("kind")]
        public string Kind { get; set; } = "";

        [Column("value")]
        public string Value { get; set; } = "";

        [Column("normalized_value")]
        public string NormalizedValue { get; set; } = "";

        [Column("source")]
        public string Source { get; set; } = "";

        [Column("decision")]
        public string? Decision { get; set; }

        [Column("invoice_id")]
        public Guid? InvoiceId { get; set; }

        [Column("created_by")]
        public string? CreatedBy { get; set; }

        [Column("created_at", SkipOnInsert = true)]
        public DateTime CreatedAt { get; set; }
    }
}
