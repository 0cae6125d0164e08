using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Invisible.Contracts.Keying.V1;
using Invisible.Ingestion;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Keying;

/// <summary>
/// <c>invisible.keying.v1.KeyingService</c>: the to-key queue (every role reads it), keying an invoice from its PDF and
/// discarding an item (clerks).
/// </summary>
public sealed class KeyingServiceHandler(KeyingQueue queue, PdfTickets tickets) : KeyingService.KeyingServiceBase
{
    public const string ErrorDomain = "keying.invisible.app";
    private const int MaxPageSize = 200;
    private const string ItemIdHint = "must be an item_id from ListToKeyItems";

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListToKeyItemsResponse> ListToKeyItems(ListToKeyItemsRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        var pageSize = RequestFields.PageSize(request.PageSize, MaxPageSize, violations);
        var offset = request.PageToken.Length == 0 ? 0 : RequestFields.ParseOffsetToken(request.PageToken, violations);
        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The to-key list request is not valid.", violations);
        }

        var page = await queue.ListAsync(context.Caller().TenantId, offset, pageSize, context.CancellationToken);
        var response = new ListToKeyItemsResponse
        {
            NextPageToken = page.HasMore ? RequestFields.OffsetToken(offset + page.Items.Count) : string.Empty,
            TotalCount = page.TotalCount,
        };
        response.Items.AddRange(page.Items.Select(ToItem));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ToKeyItemDetail> GetToKeyItem(GetToKeyItemRequest request, ServerCallContext context)
    {
        var id = ParseItemId(request.ItemId);
        var caller = context.Caller();
        var item = await queue.FindAsync(caller.TenantId, id, context.CancellationToken) ?? throw ItemNotFound();
        var prefill = await queue.PrefillAsync(caller.TenantId, item, context.CancellationToken);
        var ticket = await tickets.IssueAsync(caller.TenantId, caller.UserId, id, context.CancellationToken);
        return new ToKeyItemDetail
        {
            Item = ToItem(item),
            PdfUrl = KeyingPdfEndpoint.PathOf(id, ticket),
            Prefill = new KeyingPrefill
            {
                VendorCode = prefill.VendorCode,
                VendorName = prefill.VendorName,
                Currency = prefill.Currency,
                InvoiceDate = prefill.InvoiceDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            },
        };
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<OpenPurchaseOrder> ListOpenPurchaseOrderLines(ListOpenPurchaseOrderLinesRequest request, ServerCallContext context)
    {
        var number = request.PoNumber.Trim();
        if (number.Length is 0 or > 100)
        {
            throw DomainException.InvalidArgument("The PO number is not valid.", new FieldViolation("po_number", "must be a PO number of 1 to 100 characters"));
        }

        var order = await queue.OpenPurchaseOrderAsync(context.Caller().TenantId, number, context.CancellationToken)
            ?? throw DomainException.WithReason(ErrorKind.NotFound, $"There is no open purchase order {number}.", "KEYING_PO_NOT_FOUND", ErrorDomain);
        var response = new OpenPurchaseOrder { PoNumber = order.PoNumber, VendorCode = order.VendorCode, VendorName = order.VendorName, Currency = order.Currency };
        response.Lines.AddRange(order.Lines.Select(l => new OpenPurchaseOrderLine
        {
            LineNo = l.LineNo,
            Sku = l.Sku,
            Description = l.Description,
            Quantity = Format(l.Quantity),
            UnitPrice = Format(l.UnitPrice),
        }));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<KeyedInvoiceResult> SubmitKeyedInvoice(SubmitKeyedInvoiceRequest request, ServerCallContext context)
    {
        var id = ParseItemId(request.ItemId);
        var caller = context.Caller();
        // Looked up before the form is checked: another tenant's item is not found, whatever the form says.
        _ = await queue.FindAsync(caller.TenantId, id, context.CancellationToken) ?? throw ItemNotFound();
        var (invoice, violations) = KeyedInvoiceForm.Check(new KeyedInvoiceFields(
            request.VendorName, request.InvoiceNumber, request.InvoiceDate, request.DueDate, request.Currency, request.PoNumber,
            request.Lines.Select(l => (l.Sku, l.Description, l.Quantity, l.UnitPrice, l.Amount)).ToList(), request.TaxAmount, request.InvoiceTotal, request.VendorCode));
        if (invoice is null)
        {
            throw DomainException.InvalidArgument("The keyed invoice is not valid.", violations);
        }

        var result = await queue.SubmitAsync(caller.TenantId, id, invoice, caller.UserId.ToString(), caller.AuditActor, context.RequestId(), context.CancellationToken);
        if (result.Rejection is { } rejection)
        {
            // The form's own rules catch what the importer checks; anything left is reported by the importer's column names.
            throw DomainException.InvalidArgument("The keyed invoice is not valid.", rejection.Errors.Take(20)
                .Select(e => new FieldViolation(e.Column ?? "invoice", e.Reason)));
        }

        switch (result.Refusal)
        {
            case KeyingRefusal.NotFound:
                throw ItemNotFound();
            case KeyingRefusal.NotOpen:
                throw NotOpen();
            case KeyingRefusal.Duplicate:
                throw DomainException.WithReason(ErrorKind.AlreadyExists, "This very invoice was keyed already.", "KEYING_ALREADY_KEYED", ErrorDomain);
        }

        return new KeyedInvoiceResult
        {
            Item = ToItem(result.Item!),
            InvoiceId = result.InvoiceId!.Value.ToString(),
            ImportId = result.Import!.Id.ToString(),
            ImportNo = result.Import.ImportNo,
        };
    }

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<ToKeyItem> DiscardToKeyItem(DiscardToKeyItemRequest request, ServerCallContext context)
    {
        var id = ParseItemId(request.ItemId);
        var reason = request.Reason.Trim();
        if (reason.Length > 500)
        {
            throw DomainException.InvalidArgument("The reason is too long.", new FieldViolation("reason", "must be at most 500 characters"));
        }

        var caller = context.Caller();
        var (item, refusal) = await queue.DiscardAsync(caller.TenantId, id, reason, caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
        return refusal switch
        {
            KeyingRefusal.NotFound => throw ItemNotFound(),
            KeyingRefusal.NotOpen => throw NotOpen(),
            _ => ToItem(item!),
        };
    }

    internal static ToKeyItemId ParseItemId(string value) =>
        ToKeyItemId.TryParse(value, out var id)
            ? id
            : throw DomainException.InvalidArgument("item_id is not an id.", new FieldViolation("item_id", ItemIdHint));

    internal static DomainException ItemNotFound() =>
        DomainException.WithReason(ErrorKind.NotFound, "There is no such to-key item.", "KEYING_ITEM_NOT_FOUND", ErrorDomain);

    private static DomainException NotOpen() =>
        DomainException.WithReason(ErrorKind.FailedPrecondition, "The item was keyed or discarded already.", "KEYING_ITEM_NOT_OPEN", ErrorDomain);

    private static ToKeyItem ToItem(ToKeyItemView view)
    {
        var item = new ToKeyItem
        {
            ItemId = view.Id.ToString(),
            MessageId = view.Message.Id.ToString(),
            MessageNo = view.Message.MessageNo,
            From = view.Message.FromAddress,
            Subject = view.Message.Subject,
            ReceivedAt = Timestamp.FromDateTimeOffset(view.Message.ReceivedAt),
            FileName = view.Attachment.FileName,
            SizeBytes = view.Attachment.SizeBytes,
            State = view.Attachment.Outcome,
            KeyedBy = view.Attachment.KeyedBy ?? string.Empty,
            InvoiceId = view.Keyed?.InvoiceId.ToString() ?? string.Empty,
            ImportId = view.Keyed?.ImportId.ToString() ?? string.Empty,
        };
        if (view.Attachment.KeyedAt is { } at)
        {
            item.KeyedAt = Timestamp.FromDateTimeOffset(at);
        }

        return item;
    }

    private static string Format(decimal value) => value.ToString("0.00##", CultureInfo.InvariantCulture);
}
