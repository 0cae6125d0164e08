using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Vendors.V1;
using static Invisible.Identity.Roles;
using Grpc.Core;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Vendors;

/// <summary>
/// <c>invisible.vendors.v1.VendorService</c>: the caller's vendor master with the names and tax ids each vendor has been seen
/// under. Every role reads it (auditors and approvers trace a decision to its vendor); changes arrive by import, and admins
/// and clerks merge duplicates (and undo a merge) as they import master data.
/// </summary>
public sealed class VendorServiceHandler(VendorDirectoryQueries vendors, VendorMaster master, VendorMerges merges)
    : VendorService.VendorServiceBase
{
    public const string ErrorDomain = "vendors.invisible.app";
    private const int MaxPageSize = 200;
    private const int MaxQueryLength = 200;

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListVendorsResponse> ListVendors(ListVendorsRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        var pageSize = RequestFields.PageSize(request.PageSize, MaxPageSize, violations);
        if (request.Query.Length > MaxQueryLength)
        {
            violations.Add(new FieldViolation("query", $"must be at most {MaxQueryLength} characters"));
        }

        var afterCode = RequestFields.ParseKeyToken(request.PageToken, violations);

        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The vendor list request is not valid.", violations);
        }

        var page = await vendors.ListAsync(context.Caller().TenantId, request.Query, afterCode, pageSize, context.CancellationToken);
        var response = new ListVendorsResponse
        {
            TotalCount = (int)Math.Min(page.TotalCount, int.MaxValue),
            NextPageToken = page.HasMore ? RequestFields.KeyToken(page.Vendors[^1].VendorCode) : string.Empty,
        };
        response.Vendors.AddRange(page.Vendors.Select(ToMessage));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListDuplicateClustersResponse> ListDuplicateClusters(ListDuplicateClustersRequest request, ServerCallContext context)
    {
        var clusters = await master.DuplicateClustersAsync(context.Caller().TenantId, context.CancellationToken);
        var response = new ListDuplicateClustersResponse();
        response.Clusters.AddRange(clusters.Select(cluster =>
        {
            var message = new DuplicateCluster { ClusterId = cluster.Id, Confidence = cluster.Confidence };
            message.Vendors.AddRange(cluster.Members.Select(vendor => new Contracts.Vendors.V1.Vendor
            {
                VendorCode = vendor.Code, Name = vendor.Name, TaxId = vendor.TaxId ?? "",
            }));
            message.Pairs.AddRange(cluster.Pairs.Select(pair => new Contracts.Vendors.V1.DuplicatePair
            {
                FirstVendorCode = pair.FirstCode, SecondVendorCode = pair.SecondCode, Probability = pair.Probability, Evidence = { pair.Evidence },
            }));
            return message;
        }));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<VendorMerge> MergeVendors(MergeVendorsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        return ToMessage(await merges.MergeAsync(
            caller.TenantId, request.SurvivorCode, request.MergedCodes, caller.AuditActor, context.RequestId(), context.CancellationToken));
    }

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<VendorMerge> UnmergeVendor(UnmergeVendorRequest request, ServerCallContext context)
    {
        if (!Guid.TryParse(request.MergeId, out var mergeId))
        {
            throw DomainException.InvalidArgument("Name the merge by its id.", new FieldViolation("merge_id", "must be a UUID"));
        }

        var caller = context.Caller();
        return ToMessage(await merges.UnmergeAsync(caller.TenantId, mergeId, caller.AuditActor, context.RequestId(), context.CancellationToken));
    }

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<DismissDuplicateResponse> DismissDuplicate(DismissDuplicateRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await merges.DismissAsync(
            caller.TenantId, request.FirstVendorCode, request.SecondVendorCode, caller.AuditActor, context.RequestId(), context.CancellationToken);
        return new DismissDuplicateResponse();
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<MatchingModel> GetMatchingModel(GetMatchingModelRequest request, ServerCallContext context) =>
        ToMessage(await master.ModelCardAsync(context.Caller().TenantId, context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<RetrainMatchingModelResponse> RetrainMatchingModel(RetrainMatchingModelRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var (card, trainedNow) = await master.RetrainAsync(caller.TenantId, caller.AuditActor, context.CancellationToken);
        return new RetrainMatchingModelResponse { Model = ToMessage(card), TrainedNow = trainedNow };
    }

    private static MatchingModel ToMessage(MatchingModelCard? card)
    {
        if (card is null)
        {
            return new MatchingModel();
        }

        var message = new MatchingModel
        {
            Version = card.Version, TrainingPairs = card.TrainingPairs, ReviewerPairs = card.ReviewerPairs, TrainingAccuracy = card.TrainingAccuracy,
            TrainedAt = Timestamp.FromDateTime(card.TrainedAt), HeldBackPairs = card.HeldBack.Pairs,
        };
        if (card.HeldBack.Precision is { } precision)
        {
            message.HeldBackPrecision = precision;
        }

        if (card.HeldBack.Recall is { } recall)
        {
            message.HeldBackRecall = recall;
        }

        return message;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<VendorDetail> GetVendor(GetVendorRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.VendorCode))
        {
            throw DomainException.InvalidArgument("Name the vendor by its code.", new FieldViolation("vendor_code", "must not be empty"));
        }

        var found = await vendors.FindAsync(context.Caller().TenantId, request.VendorCode.Trim(), context.CancellationToken)
            ?? throw DomainException.WithReason(
                ErrorKind.NotFound, $"There is no vendor with the code '{request.VendorCode.Trim()}'.", "VENDOR_NOT_FOUND", ErrorDomain);
        var (vendor, aliases, vendorMerges) = found;
        var detail = new VendorDetail { Vendor = ToMessage(vendor), Email = vendor.Email ?? string.Empty, PaymentTerms = vendor.PaymentTerms ?? string.Empty };
        detail.Aliases.AddRange(aliases.Select(alias => new VendorAlias
        {
            Kind = alias.Kind,
            Value = alias.Value,
            Source = alias.Source,
            CreatedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(alias.CreatedAt, DateTimeKind.Utc)),
            Decision = alias.Decision ?? string.Empty,
            CreatedBy = alias.CreatedBy ?? string.Empty,
            InvoiceId = alias.InvoiceId?.ToString() ?? string.Empty,
        }));
        detail.Merges.AddRange(vendorMerges.Select(ToMessage));
        return detail;
    }

    private static VendorMerge ToMessage(VendorMergeView merge)
    {
        var message = new VendorMerge
        {
            MergeId = merge.Id.ToString(),
            SurvivorCode = merge.SurvivorCode,
            MergedBy = merge.MergedBy,
            MergedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(merge.MergedAt, DateTimeKind.Utc)),
            UnmergedBy = merge.UnmergedBy ?? string.Empty,
            UnmergedAt = merge.UnmergedAt is { } at ? Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
            MovedAliases = merge.MovedAliases,
            MovedPurchaseOrders = merge.MovedPurchaseOrders,
            MovedInvoices = merge.MovedInvoices,
            ReevaluatedInvoices = merge.ReevaluatedInvoices,
        };
        message.MergedCodes.AddRange(merge.MergedCodes);
        return message;
    }

    private static Vendor ToMessage(VendorRow vendor) => new()
    {
        Id = vendor.Id.ToString(),
        VendorCode = vendor.VendorCode,
        Name = vendor.Name,
        TaxId = vendor.TaxId ?? string.Empty,
        Country = vendor.Country ?? string.Empty,
        Currency = vendor.Currency ?? string.Empty,
        AliasCount = (int)Math.Min(vendor.AliasCount, int.MaxValue),
        OpenExceptionCount = (int)Math.Min(vendor.OpenExceptionCount, int.MaxValue),
        MergedIntoCode = vendor.MergedIntoCode ?? string.Empty,
    };
}
