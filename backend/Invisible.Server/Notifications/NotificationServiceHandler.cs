using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Invisible.Contracts.Notifications.V1;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Contract = Invisible.Contracts.Notifications.V1;

namespace Invisible.Server.Notifications;

/// <summary>
/// <c>invisible.notifications.v1.NotificationService</c>: a person's notification preferences and in-app notifications
/// (people only: an API key is told nothing), and the anonymous unsubscribe of an e-mail's link.
/// </summary>
public sealed class NotificationServiceHandler(TenantDatabase tenants, UnsubscribeTokens unsubscribeTokens, IOptions<NotificationsOptions> options, TimeProvider time)
    : NotificationService.NotificationServiceBase
{
    public const string ErrorDomain = "notifications.invisible.app";

    [Authorize(Policy = AccessPolicies.Person)]
    public override async Task<NotificationPreferences> GetNotificationPreferences(GetNotificationPreferencesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        return ToContract(await NotificationStore.PreferencesOfAsync(unitOfWork, caller.UserId, context.CancellationToken));
    }

    [Authorize(Policy = AccessPolicies.Person)]
    public override async Task<NotificationPreferences> SetNotificationPreferences(SetNotificationPreferencesRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var violations = request.Preferences
            .Select((preference, index) => NotificationKinds.IsChosen(preference.Kind)
                ? null
                : new FieldViolation($"preferences[{index}].kind", $"must be one of {string.Join(", ", NotificationKinds.Chosen.Select(entry => entry.Kind))}"))
            .OfType<FieldViolation>()
            .ToList();
        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The preferences cannot be saved.", violations);
        }

        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var chosen = request.Preferences.Select(preference => new NotificationPreference(preference.Kind, preference.Email, preference.InApp, preference.Digest)).ToList();
        await NotificationStore.SaveAsync(unitOfWork, caller.UserId, chosen, time.GetUtcNow(), context.CancellationToken);
        var saved = await NotificationStore.PreferencesOfAsync(unitOfWork, caller.UserId, context.CancellationToken);
        await unitOfWork.CommitAsync(context.CancellationToken);
        return ToContract(saved);
    }

    [Authorize(Policy = AccessPolicies.Person)]
    public override async Task<ListNotificationsResponse> ListNotifications(ListNotificationsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        if (request.Limit is < 0 or > 100)
        {
            throw DomainException.InvalidArgument("The limit is out of range.", [new FieldViolation("limit", "must be between 1 and 100 (0: 20)")]);
        }

        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var (items, unread) = await NotificationStore.ListAsync(unitOfWork, caller.UserId, request.Limit == 0 ? 20 : request.Limit, context.CancellationToken);
        var response = new ListNotificationsResponse { UnreadCount = unread };
        response.Notifications.AddRange(items.Select(item => new Contract.Notification
        {
            Id = item.Id.ToString(), Kind = item.Kind, Subject = item.Subject, Body = item.Body, Link = item.Link,
            CreatedAt = Timestamp.FromDateTimeOffset(item.CreatedAt), Read = item.Read,
        }));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Person)]
    public override async Task<MarkNotificationsReadResponse> MarkNotificationsRead(MarkNotificationsReadRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var ids = new List<Guid>();
        var violations = new List<FieldViolation>();
        for (var index = 0; index < request.NotificationIds.Count; index++)
        {
            if (Guid.TryParse(request.NotificationIds[index], out var id))
            {
                ids.Add(id);
            }
            else
            {
                violations.Add(new FieldViolation($"notification_ids[{index}]", "must be a UUID"));
            }
        }

        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("Name notifications by their ids.", violations);
        }

        await using var unitOfWork = await tenants.BeginAsync(caller.TenantId, context.CancellationToken);
        var unread = await NotificationStore.MarkReadAsync(unitOfWork, caller.UserId, ids, time.GetUtcNow(), context.CancellationToken);
        await unitOfWork.CommitAsync(context.CancellationToken);
        return new MarkNotificationsReadResponse { UnreadCount = unread };
    }

    /// <summary>The link of an e-mail: whoever holds it may turn that one kind of e-mail off for its person, nothing else.</summary>
    [AllowAnonymous]
    [SignInRateLimited]
    public override async Task<UnsubscribeResponse> Unsubscribe(UnsubscribeRequest request, ServerCallContext context)
    {
        var claim = await unsubscribeTokens.ValidateAsync(request.Token, context.CancellationToken)
            ?? throw DomainException.WithReason(ErrorKind.InvalidArgument, "This unsubscribe link is not valid.", "INVALID_UNSUBSCRIBE_LINK", ErrorDomain);
        await using var unitOfWork = await tenants.BeginAsync(claim.TenantId, context.CancellationToken);
        var current = await NotificationStore.PreferencesOfAsync(unitOfWork, claim.UserId, context.CancellationToken);
        var digest = claim.Kind == NotificationKinds.DailyDigest;
        var changed = digest
            ? current.Select(preference => preference with { Digest = false }).ToList()
            : current.Where(preference => preference.Kind == claim.Kind).Select(preference => preference with { Email = false }).ToList();
        await NotificationStore.SaveAsync(unitOfWork, claim.UserId, changed, time.GetUtcNow(), context.CancellationToken);
        await AuditLog.AppendAsync(unitOfWork, $"user:{claim.UserId}", "notifications.unsubscribed", "user", claim.UserId.ToString(),
            null, new { kind = claim.Kind }, context.RequestId(), context.CancellationToken);
        await unitOfWork.CommitAsync(context.CancellationToken);
        return new UnsubscribeResponse
        {
            TurnedOff = digest
                ? "You will no longer receive the daily digest."
                : $"You will no longer receive e-mails when: {NotificationKinds.Chosen.First(entry => entry.Kind == claim.Kind).Description.ToLowerInvariant()}",
        };
    }

    private NotificationPreferences ToContract(IReadOnlyList<NotificationPreference> preferences)
    {
        var response = new NotificationPreferences { DigestHour = options.Value.DigestHour };
        response.Preferences.AddRange(NotificationKinds.Chosen.Select(entry =>
        {
            var preference = preferences.First(p => p.Kind == entry.Kind);
            return new Contract.NotificationPreference
            {
                Kind = entry.Kind, Email = preference.Email, InApp = preference.InApp, Digest = preference.Digest && NotificationKinds.InDigest.Contains(entry.Kind),
                Description = entry.Description,
            };
        }));
        return response;
    }
}
