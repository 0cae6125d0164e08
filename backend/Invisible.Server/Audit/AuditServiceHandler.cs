using Microsoft.AspNetCore.RateLimiting;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Audit.V1;
using Microsoft.Extensions.Options;
using static Invisible.Identity.Roles;
using Grpc.Core;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Audit;

/// <summary>
/// <c>invisible.audit.v1.AuditService</c>: the caller's tenant's hash-chained audit log, to read, filter, export and verify.
/// Administrators and auditors only: the log names people, addresses and every change.
/// </summary>
public sealed class AuditServiceHandler(AuditTrail trail, IOptions<RpcOptions> rpcOptions)
    : AuditService.AuditServiceBase
{
    public const string ErrorDomain = "audit.invisible.app";
    private const int MaxPageSize = 500;

    // Room left in a response for the message around the CSV bytes.
    private const int ResponseOverheadBytes = 1024;

    [Authorize(Policy = AccessPolicies.Auditor)]
    public override async Task<ListAuditEntriesResponse> ListAuditEntries(ListAuditEntriesRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        var query = ToQuery(request.Filter, violations);
        var pageSize = RequestFields.PageSize(request.PageSize, MaxPageSize, violations);
        var beforeSeq = RequestFields.ParseSequenceToken(request.PageToken, violations);
        ThrowIfAny(violations);
        var entries = await trail.ListAsync(context.Caller().TenantId, query, beforeSeq, pageSize, context.CancellationToken);
        var response = new ListAuditEntriesResponse
        {
            // The chain starts at 1: a full page ending at entry 1 has nothing after it.
            NextPageToken = entries.Count == pageSize && entries[^1].Seq > 1 ? RequestFields.SequenceToken(entries[^1].Seq) : string.Empty,
        };
        response.Entries.AddRange(entries.Select(ToMessage));
        return response;
    }

    [EnableRateLimiting(RequestRateLimits.HeavyCall)]
    [Authorize(Policy = AccessPolicies.Auditor)]
    public override async Task<ExportAuditLogResponse> ExportAuditLog(ExportAuditLogRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        var query = ToQuery(request.Filter, violations);
        ThrowIfAny(violations);
        var caller = context.Caller();
        using var buffer = new MemoryStream();
        int rows;
        try
        {
            rows = await trail.ExportAsync(
                caller.TenantId, query, buffer, rpcOptions.Value.MaxSendMessageSize - ResponseOverheadBytes, caller.AuditActor, context.RequestId(),
                context.CancellationToken);
        }
        catch (AuditExportTooLargeException)
        {
            throw DomainException.WithReason(
                ErrorKind.FailedPrecondition,
                "The audit log export is too large for one file. Narrow the filter, e.g. to a shorter period with from and to.",
                "EXPORT_TOO_LARGE",
                ErrorDomain);
        }

        return new ExportAuditLogResponse { Csv = ByteString.CopyFrom(buffer.GetBuffer(), 0, (int)buffer.Length), RowCount = rows };
    }

    [Authorize(Policy = AccessPolicies.Auditor)]
    public override async Task<VerifyAuditChainResponse> VerifyAuditChain(VerifyAuditChainRequest request, ServerCallContext context)
    {
        var verification = await trail.VerifyAsync(context.Caller().TenantId, context.CancellationToken);
        return new VerifyAuditChainResponse
        {
            Ok = verification.IsIntact,
            EntriesChecked = verification.EntriesChecked,
            FirstBadSeq = verification.FirstBrokenSequence ?? 0,
        };
    }

    private static AuditQuery ToQuery(AuditFilter? filter, List<FieldViolation> violations)
    {
        if (filter is null)
        {
            return new AuditQuery(null, null, null, null, null, null);
        }

        var from = filter.From?.ToDateTimeOffset();
        var to = filter.To?.ToDateTimeOffset();
        if (from is not null && to is not null && from >= to)
        {
            violations.Add(new FieldViolation("filter.to", "must be after filter.from"));
        }

        return new AuditQuery(NullIfEmpty(filter.Actor), NullIfEmpty(filter.Action), NullIfEmpty(filter.Entity), NullIfEmpty(filter.EntityId), from, to);
    }

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static void ThrowIfAny(List<FieldViolation> violations)
    {
        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The audit log request is not valid.", violations);
        }
    }

    private static AuditEntry ToMessage(AuditEntryRow entry) => new()
    {
        Seq = entry.Seq,
        OccurredAt = Timestamp.FromDateTime(DateTime.SpecifyKind(entry.OccurredAt, DateTimeKind.Utc)),
        Actor = entry.Actor,
        Action = entry.Action,
        Entity = entry.Entity,
        EntityId = entry.EntityId ?? string.Empty,
        BeforeJson = entry.BeforeJson ?? string.Empty,
        AfterJson = entry.AfterJson ?? string.Empty,
        RequestId = entry.RequestId ?? string.Empty,
        HashHex = Convert.ToHexStringLower(entry.Hash),
    };
}
