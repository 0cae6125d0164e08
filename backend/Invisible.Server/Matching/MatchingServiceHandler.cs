using Microsoft.AspNetCore.RateLimiting;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Matching.V1;
using Invisible.Identity;
using Invisible.Reconciliation.Matching;
using Contract = Invisible.Contracts.Matching.V1;
using Grpc.Core;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Matching;

/// <summary>
/// The gRPC face of <see cref="InvoiceMatching"/> (protos/invisible/matching/v1/matching.proto). Admins and clerks start
/// reconcile runs; every role reads the outcome, which approvers and auditors review.
/// </summary>
public sealed class MatchingServiceHandler(InvoiceMatching matching, ToleranceAdministration tolerances)
    : MatchingService.MatchingServiceBase
{
    private const string ErrorDomain = "matching.invisible.app";
    /// <summary>The largest page of invoices and of exceptions.</summary>
    internal const int MaxPageSize = 200;

    [EnableRateLimiting(RequestRateLimits.HeavyCall)]
    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<ReconcileResponse> Reconcile(ReconcileRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var summary = await matching.ReconcileAsync(caller.TenantId, caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
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

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListInvoicesResponse> ListInvoices(ListInvoicesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var pageSize = RequestFields.PageSize(request.PageSize, MaxPageSize);
        var search = new InvoiceSearch(
            request.Status == Contract.InvoiceStatus.Unspecified ? null : FromContract(request.Status),
            request.VendorCode.Length > 0 ? request.VendorCode : null,
            request.Query.Length > 0 ? request.Query : null,
            request.Sort switch
            {
                InvoiceSort.Unspecified => InvoiceSortBy.ImportOrder,
                InvoiceSort.InvoiceDate => InvoiceSortBy.InvoiceDate,
                InvoiceSort.Total => InvoiceSortBy.Total,
                InvoiceSort.Vendor => InvoiceSortBy.Vendor,
                InvoiceSort.InvoiceNumber => InvoiceSortBy.InvoiceNumber,
                _ => throw DomainException.InvalidArgument("Unknown sort.", new FieldViolation("sort", "use one of the InvoiceSort values")),
            },
            request.Descending);

        var response = new ListInvoicesResponse();
        if (request.PageToken.Length > 0 && !RequestFields.IsKeysetToken(request.PageToken))
        {
            // Offset tokens handed out before keyset paging still name their page (read by offset, as then).
            var offset = RequestFields.ParseOffsetToken(request.PageToken);
            var (rows, total) = await matching.SearchInvoicesAsync(caller.TenantId, search, offset, pageSize, context.CancellationToken);
            response.TotalCount = total;
            response.Invoices.AddRange(rows.Select(ToSummary));
            if (rows.Count > 0 && offset + rows.Count < total)
            {
                response.NextPageToken = InvoicePageToken(search, total, rows[^1]);
            }

            return response;
        }

        var (after, knownTotal) = ParseInvoicePageToken(request.PageToken, search);
        var page = await matching.PageInvoicesAsync(caller.TenantId, search, after, knownTotal is null, pageSize, context.CancellationToken);
        var count = knownTotal ?? page.TotalCount;
        response.TotalCount = count;
        response.Invoices.AddRange(page.Items.Select(ToSummary));
        if (page.HasMore)
        {
            response.NextPageToken = InvoicePageToken(search, count, page.Items[^1]);
        }

        return response;
    }

    /// <summary>
    /// A keyset token for the invoice page after <paramref name="last"/>: the sort, a fingerprint of the filters (a token is
    /// refused under others), the total counted for the first page (later pages do not count again) and the row's keys.
    /// </summary>
    private static string InvoicePageToken(InvoiceSearch search, int total, InvoiceListItem last) => RequestFields.KeysetToken(
    [
        ((int)search.SortBy).ToString(CultureInfo.InvariantCulture), search.Descending ? "1" : "0", FilterFingerprint(search),
        total.ToString(CultureInfo.InvariantCulture), last.ImportNo.ToString(CultureInfo.InvariantCulture),
        last.ImportPosition.ToString(CultureInfo.InvariantCulture), InvoiceQueries.SortValue(last, search.SortBy),
    ]);

    private static (InvoiceKeyset? After, int? Total) ParseInvoicePageToken(string token, InvoiceSearch search)
    {
        if (RequestFields.ParseKeysetToken(token, 7) is not { } values)
        {
            return (null, null);
        }

        static bool Number(string text, out long value) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (values[0] != ((int)search.SortBy).ToString(CultureInfo.InvariantCulture) || values[1] != (search.Descending ? "1" : "0")
            || values[2] != FilterFingerprint(search) || !Number(values[3], out var total) || total > int.MaxValue
            || !Number(values[4], out var importNo) || !Number(values[5], out var position) || position > int.MaxValue
            || !SortValueParses(values[6], search.SortBy))
        {
            throw RequestFields.InvalidPageToken();
        }

        return (new InvoiceKeyset(values[6], importNo, (int)position), (int)total);
    }

    // The value is cast in SQL; one that does not parse would fail there as a bug rather than as a bad token.
    private static bool SortValueParses(string value, InvoiceSortBy sortBy) => sortBy switch
    {
        InvoiceSortBy.InvoiceDate => DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        InvoiceSortBy.Total => decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _),
        _ => true,
    };

    private static string FilterFingerprint(InvoiceSearch search) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
        string.Join('\u001f', search.Status ?? "", search.VendorCode ?? "", search.Query ?? ""))), 0, 8);

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<InvoiceDetail> GetInvoice(GetInvoiceRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var invoiceId = RequestFields.ParseId(request.InvoiceId, "invoice_id");
        var view = await matching.GetInvoiceAsync(caller.TenantId, invoiceId, context.CancellationToken)
            ?? throw DomainException.WithReason(ErrorKind.NotFound, $"No invoice {invoiceId}.", "INVOICE_NOT_FOUND", ErrorDomain);
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

    [EnableRateLimiting(RequestRateLimits.HeavyCall)]
    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ExportResultsResponse> ExportResults(ExportResultsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        using var buffer = new MemoryStream();
        var rows = await matching.ExportResultsAsync(caller.TenantId, buffer, context.CancellationToken);
        return new ExportResultsResponse { Csv = ByteString.CopyFrom(buffer.GetBuffer(), 0, (int)buffer.Length), RowCount = rows };
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<Contract.Tolerances> GetTolerances(GetTolerancesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        return ToContract(await tolerances.GetAsync(caller.TenantId, context.CancellationToken));
    }

    /// <summary>Admins only: a tolerance change moves money through or holds it back, so it is audited and versioned.</summary>
    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<Contract.Tolerances> SetTolerance(SetToleranceRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var vendorCode = request.VendorCode.Trim() is { Length: > 0 } code ? code : null;
        if (request.RemoveOverride && vendorCode is null)
        {
            throw DomainException.InvalidArgument("Name the vendor whose override to remove.", new FieldViolation("vendor_code", "is required with remove_override"));
        }

        var settings = request.RemoveOverride ? null : ParseSettings(request.Settings);
        return ToContract(await tolerances.SetAsync(caller, vendorCode, settings, request.RemoveOverride, context.RequestId(), context.CancellationToken));
    }

    [EnableRateLimiting(RequestRateLimits.HeavyCall)]
    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<PreviewToleranceResponse> PreviewTolerance(PreviewToleranceRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var vendorCode = request.VendorCode.Trim() is { Length: > 0 } code ? code : null;
        var outcome = await tolerances.PreviewAsync(caller.TenantId, vendorCode, ParseSettings(request.Settings), context.CancellationToken);
        var response = new PreviewToleranceResponse
        {
            OpenExceptions = outcome.OpenExceptions,
            WouldClear = outcome.WouldClear,
            WouldNewlyFail = outcome.WouldNewlyFail,
        };
        response.AmountWouldPass.AddRange(outcome.AmountWouldPass.Select(money => new CurrencyAmount { Currency = money.Currency, Amount = Decimal(money.Amount) }));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<Dashboard> GetDashboard(GetDashboardRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var view = await matching.DashboardAsync(caller.TenantId, context.CancellationToken);
        var dashboard = new Dashboard
        {
            InvoiceCount = view.InvoiceCount,
            TouchlessRate = view.TouchlessRate,
            ImportsToday = view.ImportsToday,
            ToKeyCount = view.ToKeyCount,
            AsOf = Timestamp.FromDateTimeOffset(view.AsOf),
        };
        dashboard.InvoicesByStatus.AddRange(view.InvoicesByStatus
            .Select(entry => new StatusCount { Status = ToContract(entry.Key), Invoices = entry.Value })
            .OrderBy(count => count.Status));
        dashboard.ExceptionsByReason.AddRange(view.ExceptionsByReason.Select(entry => new ReasonCount { Reason = entry.Key, Exceptions = entry.Value }));
        dashboard.ExceptionsByAge.AddRange(view.ExceptionsByAge.Select(bucket => new AgeBucket { Label = bucket.Label, Exceptions = bucket.Exceptions }));
        dashboard.AmountHeld.AddRange(view.AmountHeld.Select(money => new CurrencyAmount { Currency = money.Currency, Amount = Decimal(money.Amount) }));
        return dashboard;
    }

    private static ToleranceSettings ParseSettings(Contract.ToleranceSettings? settings)
    {
        var violations = new List<FieldViolation>();
        decimal Parse(string value, string field, decimal max, bool optional)
        {
            if (optional && value.Trim().Length == 0)
            {
                return 0;
            }

            if (decimal.TryParse(value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) && parsed <= max && parsed.Scale <= 4)
            {
                return parsed;
            }

            violations.Add(new FieldViolation($"settings.{field}", $"must be a decimal between 0 and {max.ToString(CultureInfo.InvariantCulture)} with at most 4 decimals, e.g. \"2.5\""));
            return 0;
        }

        settings ??= new Contract.ToleranceSettings();
        var pricePercent = Parse(settings.PriceTolerancePercent, "price_tolerance_percent", 100m, optional: false);
        var priceAbsolute = Parse(settings.PriceToleranceAbsolute, "price_tolerance_absolute", 999_999_999m, optional: true);
        var quantityPercent = Parse(settings.QuantityTolerancePercent, "quantity_tolerance_percent", 100m, optional: false);
        var total = Parse(settings.TotalTolerance, "total_tolerance", 999_999_999m, optional: false);
        return violations.Count > 0
            ? throw DomainException.InvalidArgument("Invalid tolerance settings.", violations)
            : new ToleranceSettings(pricePercent, priceAbsolute == 0 ? null : priceAbsolute, quantityPercent, total);
    }

    private static Contract.Tolerances ToContract(TolerancesView view)
    {
        var contract = new Contract.Tolerances { TenantDefault = ToContract(view.TenantDefault) };
        contract.VendorOverrides.AddRange(view.VendorOverrides.Select(ToContract));
        return contract;
    }

    private static Tolerance ToContract(ToleranceVersion version) => new()
    {
        VendorCode = version.VendorCode ?? "",
        Version = version.Version,
        Settings = new Contract.ToleranceSettings
        {
            PriceTolerancePercent = Decimal(version.PricePercent),
            PriceToleranceAbsolute = Decimal(version.PriceAbsolute ?? 0m),
            QuantityTolerancePercent = Decimal(version.QuantityPercent),
            TotalTolerance = Decimal(version.TotalAbsolute),
        },
        ChangedBy = version.ChangedBy ?? "",
        ChangedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(version.ChangedAt, DateTimeKind.Utc)),
    };

    internal static InvoiceSummary ToSummary(InvoiceListItem invoice) => new()
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

    internal static string Decimal(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static readonly Dictionary<string, Contract.InvoiceStatus> InvoiceStatuses = new(StringComparer.Ordinal)
    {
        ["pending"] = Contract.InvoiceStatus.Pending,
        [Reconciliation.Matching.InvoiceStatus.Matched.ToExportName()] = Contract.InvoiceStatus.Matched,
        [Reconciliation.Matching.InvoiceStatus.AwaitingReceipt.ToExportName()] = Contract.InvoiceStatus.AwaitingReceipt,
        [Reconciliation.Matching.InvoiceStatus.Exception.ToExportName()] = Contract.InvoiceStatus.Exception,
        [Reconciliation.Matching.InvoiceStatus.NoPo.ToExportName()] = Contract.InvoiceStatus.NoPo,
        [Reconciliation.Matching.InvoiceStatus.Duplicate.ToExportName()] = Contract.InvoiceStatus.Duplicate,
        [InvoiceEvaluation.Approved] = Contract.InvoiceStatus.Approved,
        [InvoiceEvaluation.Rejected] = Contract.InvoiceStatus.Rejected,
    };

    internal static Contract.InvoiceStatus ToContract(string status) =>
        InvoiceStatuses.TryGetValue(status, out var value) ? value : Contract.InvoiceStatus.Unspecified;

    private static string FromContract(Contract.InvoiceStatus status) =>
        InvoiceStatuses.FirstOrDefault(entry => entry.Value == status).Key
        ?? throw DomainException.InvalidArgument("Unknown invoice status.", new FieldViolation("status", "use one of the InvoiceStatus values"));

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
