using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Admin.V1;
using static Invisible.Identity.Roles;
using Grpc.Core;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Accounts;

/// <summary><c>invisible.admin.v1.AdminService</c>: the tenant's users, invitations, API keys and MFA policy. Administrators only.</summary>
public sealed class AdminServiceHandler(TenantAdministration administration, IpAllowlists allowlists)
    : AdminService.AdminServiceBase
{
    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<ListUsersResponse> ListUsers(ListUsersRequest request, ServerCallContext context) =>
        new() { Users = { (await administration.ListUsersAsync(context.Caller(), context.CancellationToken)).Select(ToMessage) } };

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<User> SetUserRole(SetUserRoleRequest request, ServerCallContext context) =>
        ToMessage(await administration.SetUserRoleAsync(
            context.Caller(), RequestFields.ParseId(request.UserId, "user_id"), request.Role, context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<User> DisableUser(DisableUserRequest request, ServerCallContext context) =>
        ToMessage(await administration.DisableUserAsync(context.Caller(), RequestFields.ParseId(request.UserId, "user_id"), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<InviteUserResponse> InviteUser(InviteUserRequest request, ServerCallContext context)
    {
        var (invitation, token) = await administration.InviteAsync(context.Caller(), request.Email, request.Role, context.RequestId(), context.CancellationToken);
        return new InviteUserResponse { Invitation = ToMessage(invitation), InvitationToken = token };
    }

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<ListInvitationsResponse> ListInvitations(ListInvitationsRequest request, ServerCallContext context) =>
        new() { Invitations = { (await administration.ListInvitationsAsync(context.Caller(), context.CancellationToken)).Select(ToMessage) } };

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<Invitation> RevokeInvitation(RevokeInvitationRequest request, ServerCallContext context) =>
        ToMessage(await administration.RevokeInvitationAsync(
            context.Caller(), RequestFields.ParseId(request.InvitationId, "invitation_id"), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<CreateApiKeyResponse> CreateApiKey(CreateApiKeyRequest request, ServerCallContext context)
    {
        var (apiKey, key) = await administration.CreateApiKeyAsync(
            context.Caller(), request.Name, request.Role, request.ExpiresAt?.ToDateTimeOffset(), context.RequestId(), context.CancellationToken);
        return new CreateApiKeyResponse { ApiKey = ToMessage(apiKey), Key = key };
    }

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<ListApiKeysResponse> ListApiKeys(ListApiKeysRequest request, ServerCallContext context) =>
        new() { ApiKeys = { (await administration.ListApiKeysAsync(context.Caller(), context.CancellationToken)).Select(ToMessage) } };

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<ApiKey> RevokeApiKey(RevokeApiKeyRequest request, ServerCallContext context) =>
        ToMessage(await administration.RevokeApiKeyAsync(context.Caller(), RequestFields.ParseId(request.ApiKeyId, "api_key_id"), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<MfaPolicy> GetMfaPolicy(GetMfaPolicyRequest request, ServerCallContext context) =>
        new() { Required = await administration.GetMfaRequiredAsync(context.Caller(), context.CancellationToken) };

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<MfaPolicy> SetMfaPolicy(SetMfaPolicyRequest request, ServerCallContext context) =>
        new() { Required = await administration.SetMfaRequiredAsync(context.Caller(), request.Required, context.RequestId(), context.CancellationToken) };

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<ApprovalPolicy> GetApprovalPolicy(GetApprovalPolicyRequest request, ServerCallContext context) =>
        new() { FourEyes = await administration.GetFourEyesAsync(context.Caller(), context.CancellationToken) };

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<ApprovalPolicy> SetApprovalPolicy(SetApprovalPolicyRequest request, ServerCallContext context) =>
        new() { FourEyes = await administration.SetFourEyesAsync(context.Caller(), request.FourEyes, context.RequestId(), context.CancellationToken) };

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<IpAllowlist> GetIpAllowlist(GetIpAllowlistRequest request, ServerCallContext context) =>
        new() { CidrRanges = { await allowlists.GetAsync(context.Caller(), context.CancellationToken) } };

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<IpAllowlist> SetIpAllowlist(SetIpAllowlistRequest request, ServerCallContext context) =>
        new()
        {
            CidrRanges = { await allowlists.SetAsync(context.Caller(), request.CidrRanges, context.Address(), context.RequestId(), context.CancellationToken) },
        };

    private static Timestamp? ToTimestamp(DateTime? utc) => utc is { } value ? Timestamp.FromDateTime(DateTime.SpecifyKind(value, DateTimeKind.Utc)) : null;

    private static User ToMessage(UserSummary user) => new()
    {
        Id = user.Id.ToString(),
        Email = user.Email,
        DisplayName = user.DisplayName,
        Role = user.Role,
        MfaEnrolled = user.MfaEnrolled,
        Disabled = user.Disabled,
        LastSignInAt = ToTimestamp(user.LastSignInAt),
    };

    private static Invitation ToMessage(InvitationSummary invitation) => new()
    {
        Id = invitation.Id.ToString(),
        Email = invitation.Email,
        Role = invitation.Role,
        ExpiresAt = ToTimestamp(invitation.ExpiresAt),
        Accepted = invitation.Accepted,
        Revoked = invitation.Revoked,
    };

    private static ApiKey ToMessage(ApiKeySummary apiKey) => new()
    {
        Id = apiKey.Id.ToString(),
        Name = apiKey.Name,
        Role = apiKey.Role,
        KeyPrefix = apiKey.KeyPrefix,
        CreatedAt = ToTimestamp(apiKey.CreatedAt),
        ExpiresAt = ToTimestamp(apiKey.ExpiresAt),
        Revoked = apiKey.Revoked,
        LastUsedAt = ToTimestamp(apiKey.LastUsedAt),
    };
}
