using Invisible.Data.Tenancy;
using Invisible.Reconciliation.Vendors;
using Invisible.Server.Vendors;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Exceptions;

/// <summary>
/// What the exception queue's decisions say about an invoice's vendor, recorded as confirmed aliases: re-matching to
/// another vendor's PO says the printed name is that vendor; approving an invoice whose vendor the engine only guessed
/// (its printed name is none of the vendor's known names) says the guess was right.
/// </summary>
internal static class ReviewerVendorConfirmation
{
    /// <summary>After a re-match to <paramref name="purchaseOrderId"/>: its vendor, when the invoice had another or none.</summary>
    public static async Task<ConfirmedAlias?> AfterRematchAsync(
        TenantUnitOfWork unitOfWork, ExceptionView item, Guid purchaseOrderId, string actor, string? requestId, CancellationToken cancellationToken)
    {
        var poVendorCode = await (
            from po in unitOfWork.Db.GetTable<PurchaseOrderRow>()
            join vendor in unitOfWork.Db.GetTable<VendorRow>() on po.VendorId equals vendor.Id
            where po.Id == purchaseOrderId
            select vendor.Code).FirstOrDefaultAsync(cancellationToken);
        return poVendorCode is null || poVendorCode == item.Invoice.VendorCode
            ? null
            : await ConfirmedAliases.ConfirmAsync(
                unitOfWork, item.Invoice.PrintedVendorName, poVendorCode, AliasDecisions.Rematch, actor, item.Invoice.InvoiceId, requestId, cancellationToken);
    }

    /// <summary>After an approval: the invoice's vendor, when the engine chose it from a name the vendor is not known by.</summary>
    public static async Task<ConfirmedAlias?> AfterApprovalAsync(
        TenantUnitOfWork unitOfWork, ExceptionView item, string actor, string? requestId, CancellationToken cancellationToken)
    {
        if (item.Invoice.VendorCode is not { } vendorCode)
        {
            return null;
        }

        var vendor = await unitOfWork.Db.GetTable<VendorRow>().FirstOrDefaultAsync(row => row.Code == vendorCode, cancellationToken);
        if (vendor is null)
        {
            return null;
        }

        var printedKey = VendorName.Parse(item.Invoice.PrintedVendorName).Key;
        var knownNames = await unitOfWork.Db.GetTable<ConfirmedAliases.AliasRow>()
            .Where(alias => alias.VendorId == vendor.Id && alias.Kind == "name")
            .Select(alias => alias.Value).ToListAsync(cancellationToken);
        var guessed = knownNames.Append(vendor.Name).All(name => VendorName.Parse(name).Key != printedKey);
        return guessed
            ? await ConfirmedAliases.ConfirmAsync(
                unitOfWork, item.Invoice.PrintedVendorName, vendorCode, AliasDecisions.ApproveGuess, actor, item.Invoice.InvoiceId, requestId, cancellationToken)
            : null;
    }

    [Table("purchase_orders")]
    private sealed class PurchaseOrderRow
    {
        [Column("id")]
        public Guid Id { get; set; }

        [Column("vendor_id")]
        public Guid VendorId { get; set; }
    }

    [Table("vendors")]
    private sealed class VendorRow
    {
        [Column("id")]
        public Guid Id { get; set; }

        [Column("vendor_code")]
        public string Code { get; set; } = "";

        [Column("name")]
        public string Name { get; set; } = "";
    }
}
