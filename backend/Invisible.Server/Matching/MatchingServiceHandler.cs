using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Matching.V1;
using Invisible.Identity;
using Invisible.Reconciliation.Matching;
using Invisible.Rpc;
using Invisible.Server.Rpc;
using Contract = Invisible.Contracts.Matching.V1;

namespace Invisible.Server.Matching;

/// <summary>
/// The gRPC face of <see cref="InvoiceMatching"/> (protos/invisible/matching/v1/matching.proto). Admins and clerks start
/// reconcile runs; every role reads the outcome, which approvers and auditors review.
/// </summary>
[RpcHandler("invisible.matching.v1.MatchingService")]
public sealed class MatchingServiceHandler(InvoiceMatching matching)
{
    private const string ErrorDomain = "matching.invisible.app";
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 200;

    [RpcAccess(Roles.Admin, Roles.Clerk)]
    public async Task<ReconcileResponse> Reconcile(ReconcileRequest request, RpcCallContext context)
    {
        var caller = context.Caller();
        var summary = await matching.ReconcileAsync(caller.TenantId, caller.UserId.ToString(), context.RequestId, context.CancellationToken);
        var response = new ReconcileResponse
        {
            RunId = summary.RunId.ToString(),
            ToleranceVersion = summary.ToleranceVersion,
            InvoiceCount = summary.InvoiceCount,
        };
        response.InvoicesByStatus.AddRange(summary.InvoicesByStatus
            .OrderBy(entry => entry.Key)
            .Select(entry => new StatusCount { Status = ToContract(entry.Key.ToExportName()), Invoices = entry.Value }));
        return response;
    }

    [RpcAccess(Roles.Admin, Roles.Clerk, Roles.Approver, Roles.Auditor)]
    public async Task<ListInvoicesResponse> ListInvoices(ListInvoicesRequest request, RpcCallContext context)
    {
        var caller = context.Caller();
        var pageSize = request.PageSize switch
        {
            0 => DefaultPageSize,
            < 0 or > MaxPageSize => throw RpcException.InvalidArgument(
                "Invalid page size.", new FieldViolation("page_size", $"must be between 1 and {MaxPageSize}")),
            var size => size,
        };
        var after = request.PageToken.Length > 0 ? ParsePageToken(request.PageToken) : (InvoicePosition?)null;
        var status = request.Status == Contract.InvoiceStatus.Unspecified ? null : FromContract(request.Status);

        // One more than a page tells whether there is a next page without counting.
        var rows = await matching.ListInvoicesAsync(caller.TenantId, status, after, pageSize + 1, context.CancellationToken);
        var response = new ListInvoicesResponse();
        response.Invoices.AddRange(rows.Take(pageSize).Select(ToSummary));
        if (rows.Count > pageSize)
        {
            var last = rows[pageSize - 1];
            response.NextPageToken = string.Create(CultureInfo.InvariantCulture, $"{last.ImportNo}.{last.ImportPosition}");
        }

        return response;
    }

    [RpcAccess(Roles.Admin, Roles.Clerk, Roles.Approver, Roles.Auditor)]
    public async Task<InvoiceDetail> GetInvoice(GetInvoiceRequest request, RpcCallContext context)
    {
        var caller = context.Caller();
        var invoiceId = Guid.TryParse(request.InvoiceId, out var id)
            ? id
            : throw RpcException.InvalidArgument("invoice_id is not an id.", new FieldViolation("invoice_id", "must be an id returned by the service"));
        var view = await matching.GetInvoiceAsync(caller.TenantId, invoiceId, context.CancellationToken)
            ?? throw RpcException.WithReason(StatusCode.NotFound, $"No invoice {invoiceId}.", "INVOICE_NOT_FOUND", ErrorDomain);
        var detail = new InvoiceDetail
        {
            Summary = ToSummary(view.Invoice),
            Explanation = view.Explanation ?? "",
            VendorExplanation = view.VendorExplanation ?? "",
            PoExplanation = view.PoExplanation ?? "",
            TotalsExplanation = view.TotalsExplanation ?? "",
            DuplicateOfInvoiceId = view.DuplicateOf?.ToString() ?? "",
            ToleranceVersion = view.ToleranceVersion ?? 0,
        };
        detail.Lines.AddRange(view.Lines.Select(line => new Contract.InvoiceLineView
        {
            LineNo = line.LineNo,
            SourceLine = line.SourceLine,
            Status = line.LineStatus is { } lineStatus ? ToContractLine(lineStatus) : Contract.LineStatus.Unspecified,
            Explanation = line.Explanation ?? "",
            Sku = line.Sku ?? "",
            Description = line.Description,
            InvoicedQuantity = Decimal(line.Quantity),
            InvoicedUnitPrice = Decimal(line.UnitPrice),
            LineAmount = Decimal(line.LineAmount),
            PoLine = line.PoNumber is null ? null : new PoLineView
            {
                PoNumber = line.PoNumber,
                LineNo = line.PoLineNo ?? 0,
                Sku = line.PoSku ?? "",
                Description = line.PoDescription ?? "",
                OrderedQuantity = Decimal(line.OrderedQuantity),
                UnitPrice = Decimal(line.PoUnitPrice),
                ReceivedQuantity = Decimal(line.ReceivedQuantity),
                CumulativeInvoicedQuantity = Decimal(line.CumulativeInvoiced),
                ReceiptRequired = line.ReceiptRequired ?? true,
                PriceVariancePercent = Decimal(line.PriceVariancePercent),
            },
        }));
        return detail;
    }

    [RpcAccess(Roles.Admin, Roles.Clerk, Roles.Approver, Roles.Auditor)]
    public async Task<ExportResultsResponse> ExportResults(ExportResultsRequest request, RpcCallContext context)
    {
        var caller = context.Caller();
        using var buffer = new MemoryStream();
        var rows = await matching.ExportResultsAsync(caller.TenantId, buffer, context.CancellationToken);
        return new ExportResultsResponse { Csv = ByteString.CopyFrom(buffer.GetBuffer(), 0, (int)buffer.Length), RowCount = rows };
    }

    private static InvoicePosition ParsePageToken(string token)
    {
        var parts = token.Split('.');
        return parts.Length == 2 &&
               long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var importNo) &&
               int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var position)
            ? new InvoicePosition(importNo, position)
            : throw RpcException.InvalidArgument("Invalid page token.", new FieldViolation("page_token", "use next_page_token of the previous page"));
    }

    private static InvoiceSummary ToSummary(InvoiceListItem invoice) => new()
    {
        InvoiceId = invoice.InvoiceId.ToString(),
        InvoiceNumber = invoice.InvoiceNumber,
        PrintedVendorName = invoice.PrintedVendorName,
        VendorCode = invoice.VendorCode ?? "",
        InvoiceDate = invoice.InvoiceDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        Currency = invoice.Currency,
        InvoiceTotal = Decimal(invoice.InvoiceTotal),
        Status = ToContract(invoice.Status),
        PoNumber = invoice.PoNumber ?? "",
        DecidedAt = invoice.DecidedAt is { } decidedAt ? Timestamp.FromDateTime(DateTime.SpecifyKind(decidedAt, DateTimeKind.Utc)) : null,
    };

    private static string Decimal(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static readonly Dictionary<string, Contract.InvoiceStatus> InvoiceStatuses = new(StringComparer.Ordinal)
    {
        ["pending"] = Contract.InvoiceStatus.Pending,
        [Reconciliation.Matching.InvoiceStatus.Matched.ToExportName()] = Contract.InvoiceStatus.Matched,
        [Reconciliation.Matching.InvoiceStatus.AwaitingReceipt.ToExportName()] = Contract.InvoiceStatus.AwaitingReceipt,
        [Reconciliation.Matching.InvoiceStatus.Exception.ToExportName()] = Contract.InvoiceStatus.Exception,
        [Reconciliation.Matching.InvoiceStatus.NoPo.ToExportName()] = Contract.InvoiceStatus.NoPo,
        [Reconciliation.Matching.InvoiceStatus.Duplicate.ToExportName()] = Contract.InvoiceStatus.Duplicate,
    };

    private static Contract.InvoiceStatus ToContract(string status) =>
        InvoiceStatuses.TryGetValue(status, out var value) ? value : Contract.InvoiceStatus.Unspecified;

    private static string FromContract(Contract.InvoiceStatus status) =>
        InvoiceStatuses.FirstOrDefault(entry => entry.Value == status).Key
        ?? throw RpcException.InvalidArgument("Unknown invoice status.", new FieldViolation("status", "use one of the InvoiceStatus values"));

    private static Contract.LineStatus ToContractLine(string status) => status switch
    {
        "matched" => Contract.LineStatus.Matched,
        "within_tolerance" => Contract.LineStatus.WithinTolerance,
        "price_variance" => Contract.LineStatus.PriceVariance,
        "quantity_variance" => Contract.LineStatus.QuantityVariance,
        "not_received" => Contract.LineStatus.NotReceived,
        "unmatched" => Contract.LineStatus.Unmatched,
        _ => Contract.LineStatus.Unspecified,
    };
}
