using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;
using System.Globalization;
using Invisible.Data.Audit;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Platform.Blobs;
using Invisible.Server.Imports;
using Invisible.Server.Errors;
using Invisible.Server.Intake;
using Invisible.Server.Matching;
using Invisible.Server.Matching.Models;
using Invisible.Reconciliation.Vendors;
using LinqToDB;
using LinqToDB.Async;

using Invisible.Server.Vendors;

namespace Invisible.Server.Keying;

/// <summary>A to-key item: the attachment <paramref name="Ordinal"/> of intake message <paramref name="MessageId"/>.</summary>
public readonly record struct ToKeyItemId(Guid MessageId, int Ordinal)
{
    public override string ToString() => $"{MessageId:N}-{Ordinal.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParse(string? text, out ToKeyItemId id)
    {
        id = default;
        var parts = (text ?? "").Split('-');
        if (parts.Length == 2 && Guid.TryParseExact(parts[0], "N", out var message) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal))
        {
            id = new ToKeyItemId(message, ordinal);
            return true;
        }

        return false;
    }
}

/// <summary>States of a to-key item, as the queue names them.</summary>
public static class ToKeyState
{
    public const string Open = "to_key";
    public const string Keyed = "keyed";
    public const string Discarded = "discarded";
}

public sealed record ToKeyItemView(IntakeMessageRow Message, IntakeAttachmentRow Attachment, KeyedInvoiceRow? Keyed)
{
    public ToKeyItemId Id => new(Message.Id, Attachment.Ordinal);
}

public sealed record ToKeyPage(IReadOnlyList<ToKeyItemView> Items, int TotalCount, bool HasMore);

public sealed record KeyingPrefillView(string VendorCode, string VendorName, string Currency, DateOnly InvoiceDate);

public sealed record OpenPurchaseOrderLineView(int LineNo, string Sku, string Description, decimal Quantity, decimal UnitPrice);

public sealed record OpenPurchaseOrderView(string PoNumber, string VendorCode, string VendorName, string Currency, IReadOnlyList<OpenPurchaseOrderLineView> Lines);

public enum KeyingRefusal
{
    NotFound,
    NotOpen,
    Duplicate,
}

/// <summary>What a submission became: the stored invoice, or why nothing was stored.</summary>
public sealed record KeyingResult(ToKeyItemView? Item, ImportRecord? Import, Guid? InvoiceId, KeyingRefusal? Refusal, ImportParseResult? Rejection);

/// <summary>
/// The to-key queue of a tenant: PDFs that e-mail intake kept because they carry no invoice data. A keyed invoice is stored
/// through <see cref="ImportService"/> (the one import path: validation, audit, the outbox event that decides it on
/// arrival) as an import of channel <see cref="ImportSource.Keyed"/>, then linked to its PDF and the item marked keyed.
/// When the person chose the vendor, the printed name becomes its confirmed alias (decision <c>keyed_invoice</c>) in the
/// same transaction, and decided invoices whose outcome that changes are re-decided (the keyed one too, when its arrival
/// was decided first; otherwise its arrival decision already sees the alias).
/// </summary>
public sealed class KeyingQueue(
    TenantDatabase tenants, IBlobStore blobs, ImportService imports, PersonalDataKeys personalDataKeys, SimilarityModelRetraining retraining,
    TimeProvider time, ILogger<KeyingQueue> logger)
{
    public async Task<ToKeyPage> ListAsync(Guid tenantId, int offset, int pageSize, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var open = unitOfWork.Db.GetTable<IntakeAttachmentRow>().Where(a => a.Outcome == AttachmentOutcome.ToKey);
        var rows = await (
                from a in open
                join m in unitOfWork.Db.GetTable<IntakeMessageRow>() on a.MessageId equals m.Id
                orderby m.MessageNo, a.Ordinal
                select new { Message = m, Attachment = a })
            .Skip(offset).Take(pageSize + 1).ToListAsync(cancellationToken);
        var total = await open.CountAsync(cancellationToken);
        return new ToKeyPage(rows.Take(pageSize).Select(r => new ToKeyItemView(r.Message, r.Attachment, null)).ToList(), total, rows.Count > pageSize);
    }

    public async Task<ToKeyItemView?> FindAsync(Guid tenantId, ToKeyItemId id, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        return await FindAsync(unitOfWork, id, cancellationToken);
    }

    /// <summary>The kept PDF of an item found under the caller's tenant (also once keyed, for the record); null when it is gone.</summary>
    public async Task<byte[]?> GetPdfAsync(ToKeyItemView item, CancellationToken cancellationToken) =>
        item.Attachment.PdfBlob is { } blob ? await blobs.GetAsync(blob, cancellationToken) : null;

    public async Task<KeyingPrefillView> PrefillAsync(Guid tenantId, ToKeyItemView item, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        // The sender's own vendor first, else the first by code of its domain; a merged vendor stands for its survivor.
        var senders = await VendorsBySender.FindAsync(unitOfWork, personalDataKeys, item.Message.FromAddress, cancellationToken);
        var vendorId = senders.Count > 0 ? senders[0].MergedIntoId ?? senders[0].Id : (Guid?)null;
        var vendor = vendorId is { } id
            ? await unitOfWork.Db.GetTable<KeyingVendorRow>().Where(v => v.Id == id).FirstOrDefaultAsync(cancellationToken)
            : null;
        var currency = vendor?.Currency ?? await unitOfWork.Db.GetTable<KeyingTenantRow>().Select(t => t.DefaultCurrency).FirstAsync(cancellationToken);
        return new KeyingPrefillView(vendor?.VendorCode ?? "", vendor?.Name ?? "", currency, DateOnly.FromDateTime(item.Message.ReceivedAt.UtcDateTime));
    }

    /// <summary>The lines of the current version of an open purchase order; null when there is no such open PO.</summary>
    public async Task<OpenPurchaseOrderView?> OpenPurchaseOrderAsync(Guid tenantId, string poNumber, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var wanted = poNumber.Trim().ToUpperInvariant();
        var order = await (
                from po in unitOfWork.Db.GetTable<KeyingPurchaseOrderRow>()
                join v in unitOfWork.Db.GetTable<KeyingVendorRow>() on po.VendorId equals v.Id
                where po.SupersededAt == null && po.Status == "open" && Sql.Upper(po.PoNumber) == wanted
                select new { po.Id, po.PoNumber, po.Currency, v.VendorCode, v.Name })
            .FirstOrDefaultAsync(cancellationToken);
        if (order is null)
        {
            return null;
        }

        var lines = await unitOfWork.Db.GetTable<KeyingPurchaseOrderLineRow>()
            .Where(l => l.PurchaseOrderId == order.Id).OrderBy(l => l.LineNo)
            .ToListAsync(cancellationToken);
        return new OpenPurchaseOrderView(order.PoNumber, order.VendorCode, order.Name, order.Currency,
            lines.Select(l => new OpenPurchaseOrderLineView(l.LineNo, l.Sku ?? "", l.Description, l.Quantity, l.UnitPrice)).ToList());
    }

    /// <param name="actor">Who keyed it, as the queue records it (<c>keyed_by</c>, the keying audit entry).</param>
    /// <param name="aliasActor">Who confirmed the printed name, as every confirmed alias names its person (<c>Caller.AuditActor</c>).</param>
    public async Task<KeyingResult> SubmitAsync(
        Guid tenantId, ToKeyItemId id, KeyedInvoice invoice, string actor, string aliasActor, string? requestId, CancellationToken cancellationToken)
    {
        var item = await FindAsync(tenantId, id, cancellationToken);
        if (item is null || item.Attachment.PdfBlob is null)
        {
            return new KeyingResult(null, null, null, KeyingRefusal.NotFound, null);
        }

        if (item.Attachment.Outcome != AttachmentOutcome.ToKey)
        {
            return new KeyingResult(item, null, null, KeyingRefusal.NotOpen, null);
        }

        if (invoice.VendorCode is not null)
        {
            // Checked before anything is stored: a wrong code must not leave an invoice behind without its item marked keyed.
            await CheckChosenVendorAsync(tenantId, invoice, cancellationToken);
        }

        var request = new ImportRequest(DocumentKind.Invoices, $"keyed-{id}.csv", ImportSource.Keyed, actor, requestId);
        using var content = new MemoryStream(KeyedInvoiceForm.ToCsv(invoice, id.ToString()), writable: false);
        var outcome = await imports.ImportAsync(tenantId, request, content, ImportOptions.Default, progress: null, cancellationToken);
        switch (outcome.Kind)
        {
            case ImportOutcomeKind.Rejected:
                return new KeyingResult(item, outcome.Record, null, null, outcome.Parse);
            case ImportOutcomeKind.Duplicate:
                return new KeyingResult(item, outcome.Record, null, KeyingRefusal.Duplicate, null);
        }

        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        // Taken before the alias is written, so the alias and the re-decisions it causes reach the next run together.
        var redecision = invoice.VendorCode is null
            ? null
            : await InvoiceRedecision.BeginAsync(unitOfWork, time, await personalDataKeys.DataAsync(cancellationToken), cancellationToken);
        var now = time.GetUtcNow();
        var marked = await unitOfWork.Db.GetTable<IntakeAttachmentRow>()
            .Where(a => a.MessageId == id.MessageId && a.Ordinal == id.Ordinal && a.Outcome == AttachmentOutcome.ToKey)
            .Set(a => a.Outcome, AttachmentOutcome.Keyed)
            .Set(a => a.KeyedBy, actor)
            .Set(a => a.KeyedAt, now)
            .Set(a => a.ImportId, outcome.Record.Id)
            .Set(a => a.ImportNo, outcome.Record.ImportNo)
            .UpdateAsync(cancellationToken);
        var invoiceId = await unitOfWork.Db.GetTable<KeyingInvoiceRow>()
            .Where(i => i.ImportId == outcome.Record.Id).OrderBy(i => i.ImportPosition).Select(i => i.Id).FirstAsync(cancellationToken);
        if (marked == 0)
        {
            // Keyed or discarded by someone else while this import ran: the invoice stays (it was stored and is decided like
            // any other), but the item keeps the first outcome.
            logger.LogWarning("To-key item {ItemId} of tenant {TenantId} changed while invoice {InvoiceId} was being keyed from it", id, tenantId, invoiceId);
            return new KeyingResult(await FindAsync(unitOfWork, id, cancellationToken), outcome.Record, invoiceId, KeyingRefusal.NotOpen, null);
        }

        await unitOfWork.Db.InsertAsync(new KeyedInvoiceRow
        {
            TenantId = tenantId,
            ImportId = outcome.Record.Id,
            InvoiceId = invoiceId,
            MessageId = id.MessageId,
            Ordinal = id.Ordinal,
            PdfBlob = item.Attachment.PdfBlob,
            DueDate = invoice.DueDate,
            KeyedBy = actor,
            KeyedAt = now,
        }, token: cancellationToken);
        var before = new { state = ToKeyState.Open };
        var after = new
        {
            state = ToKeyState.Keyed, invoiceId, importId = outcome.Record.Id, outcome.Record.ImportNo, invoice.InvoiceNumber, invoice.VendorName,
            invoice.VendorCode, invoice.Currency, invoice.InvoiceTotal, invoice.PoNumber, dueDate = invoice.DueDate,
        };
        if (redecision is null)
        {
            await AuditLog.AppendAsync(unitOfWork, actor, "keying.item.keyed", "intake_attachment", id.ToString(), before, after, requestId, cancellationToken);
        }
        else
        {
            await ConfirmedAliases.ConfirmAsync(
                unitOfWork, invoice.VendorName, invoice.VendorCode!, AliasDecisions.KeyedInvoice, aliasActor, invoiceId, requestId, cancellationToken);
            await redecision.ReevaluateAsync(actor, new HashSet<Guid>(), eligible: null, cancellationToken);
            await redecision.RecordAsync(
                new RedecisionAudit(actor, "keying.item.keyed", "intake_attachment", id.ToString(), before, after, requestId),
                cause: AliasDecisions.KeyedInvoice, alsoChanged: [], cancellationToken);
        }

        var keyed = await FindAsync(unitOfWork, id, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        if (redecision is not null)
        {
            // A confirmed name: the model learns it in the background.
            retraining.Request(tenantId);
        }

        logger.LogInformation("To-key item {ItemId} of tenant {TenantId} keyed as invoice {InvoiceId} (import #{ImportNo})", id, tenantId, invoiceId, outcome.Record.ImportNo);
        return new KeyingResult(keyed, outcome.Record, invoiceId, null, null);
    }

    public async Task<(ToKeyItemView? Item, KeyingRefusal? Refusal)> DiscardAsync(
        Guid tenantId, ToKeyItemId id, string reason, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var item = await FindAsync(unitOfWork, id, cancellationToken);
        if (item is null || item.Attachment.PdfBlob is null)
        {
            return (null, KeyingRefusal.NotFound);
        }

        if (item.Attachment.Outcome != AttachmentOutcome.ToKey)
        {
            return (item, KeyingRefusal.NotOpen);
        }

        await unitOfWork.Db.GetTable<IntakeAttachmentRow>()
            .Where(a => a.MessageId == id.MessageId && a.Ordinal == id.Ordinal)
            .Set(a => a.Outcome, AttachmentOutcome.Discarded)
            .Set(a => a.KeyedBy, actor)
            .Set(a => a.KeyedAt, time.GetUtcNow())
            .UpdateAsync(cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, actor, "keying.item.discarded", "intake_attachment", id.ToString(),
            new { state = ToKeyState.Open }, new { state = ToKeyState.Discarded, reason }, requestId, cancellationToken);
        var discarded = await FindAsync(unitOfWork, id, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return (discarded, null);
    }

    /// <summary>Refuses, as a field violation, a chosen vendor that is not a current vendor of the tenant, or a printed name it cannot be confirmed for.</summary>
    private async Task CheckChosenVendorAsync(Guid tenantId, KeyedInvoice invoice, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var vendors = unitOfWork.Db.GetTable<KeyingVendorRow>();
        var vendor = await vendors.FirstOrDefaultAsync(v => v.VendorCode == invoice.VendorCode, cancellationToken);
        if (vendor is null)
        {
            throw DomainException.InvalidArgument(
                "The keyed invoice is not valid.", new FieldViolation("vendor_code", $"no vendor '{invoice.VendorCode}' in your organisation"));
        }

        if (vendor.MergedInto is { } survivorId)
        {
            var survivor = await vendors.Where(v => v.Id == survivorId).Select(v => v.VendorCode).FirstAsync(cancellationToken);
            throw DomainException.InvalidArgument(
                "The keyed invoice is not valid.", new FieldViolation("vendor_code", $"{vendor.VendorCode} was merged into {survivor}; choose {survivor}"));
        }

        if (VendorName.Parse(invoice.VendorName).Key.Length == 0)
        {
            throw DomainException.InvalidArgument(
                "The keyed invoice is not valid.", new FieldViolation("vendor_name", "must contain a letter or digit to be recognised as the vendor's name"));
        }
    }

    private static async Task<ToKeyItemView?> FindAsync(TenantUnitOfWork unitOfWork, ToKeyItemId id, CancellationToken cancellationToken)
    {
        var row = await (
                from a in unitOfWork.Db.GetTable<IntakeAttachmentRow>()
                join m in unitOfWork.Db.GetTable<IntakeMessageRow>() on a.MessageId equals m.Id
                where a.MessageId == id.MessageId && a.Ordinal == id.Ordinal && a.PdfBlob != null
                select new { Message = m, Attachment = a })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        var keyed = await unitOfWork.Db.GetTable<KeyedInvoiceRow>()
            .FirstOrDefaultAsync(k => k.MessageId == id.MessageId && k.Ordinal == id.Ordinal, cancellationToken);
        return new ToKeyItemView(row.Message, row.Attachment, keyed);
    }
}
