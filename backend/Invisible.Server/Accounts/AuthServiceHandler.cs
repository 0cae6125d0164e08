using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Auth.V1;
using Invisible.Data.Tenancy;
using Invisible.Rpc;
using Invisible.Server.Rpc;
using Dapper;

namespace Invisible.Server.Accounts;

/// <summary><c>invisible.auth.v1.AuthService</c>: sign-in, second factor, sessions.</summary>
[RpcHandler("invisible.auth.v1.AuthService")]
public sealed class AuthServiceHandler(Authentication authentication, MultiFactor multiFactor, Sessions sessions, TenantDatabase database)
{
    [RpcAccess(RpcAccessLevel.Anonymous, RateLimited = true)]
    public async Task<SignInResponse> SignIn(SignInRequest request, RpcCallContext context)
    {
        var outcome = await authentication.SignInAsync(
            request.Email, request.Password, request.TenantSlug, context.Address(), context.RequestId, context.CancellationToken);
        return ToResponse(outcome);
    }

    [RpcAccess(RpcAccessLevel.Session, RateLimited = true)]
    public async Task<Contracts.Auth.V1.Session> VerifyMfa(VerifyMfaRequest request, RpcCallContext context) =>
        ToMessage(await multiFactor.VerifyAsync(
            context.Caller(), request.TotpCode, request.RecoveryCode, context.Address(), context.RequestId, context.CancellationToken));

    [RpcAccess(RpcAccessLevel.Session)]
    public async Task<BeginMfaEnrolmentResponse> BeginMfaEnrolment(BeginMfaEnrolmentRequest request, RpcCallContext context)
    {
        var enrolment = await multiFactor.BeginEnrolmentAsync(context.Caller(), context.RequestId, context.CancellationToken);
        return new BeginMfaEnrolmentResponse { OtpauthUri = enrolment.OtpAuthUri.AbsoluteUri, SecretBase32 = enrolment.SecretBase32 };
    }

    [RpcAccess(RpcAccessLevel.Session, RateLimited = true)]
    public async Task<ConfirmMfaEnrolmentResponse> ConfirmMfaEnrolment(ConfirmMfaEnrolmentRequest request, RpcCallContext context)
    {
        var confirmed = await multiFactor.ConfirmEnrolmentAsync(
            context.Caller(), request.TotpCode, context.Address(), context.RequestId, context.CancellationToken);
        return new ConfirmMfaEnrolmentResponse { RecoveryCodes = { confirmed.RecoveryCodes }, Session = ToMessage(confirmed.Session) };
    }

    [RpcAccess(RpcAccessLevel.Anonymous, RateLimited = true)]
    public async Task<Contracts.Auth.V1.Session> Refresh(RefreshRequest request, RpcCallContext context) =>
        ToMessage(await sessions.RefreshAsync(request.RefreshToken, context.RequestId, context.CancellationToken));

    [RpcAccess(RpcAccessLevel.Session)]
    public async Task<SignOutResponse> SignOut(SignOutRequest request, RpcCallContext context)
    {
        await authentication.SignOutAsync(context.Caller(), everywhere: false, context.RequestId, context.CancellationToken);
        return new SignOutResponse();
    }

    [RpcAccess(RpcAccessLevel.Session)]
    public async Task<SignOutResponse> SignOutEverywhere(SignOutEverywhereRequest request, RpcCallContext context)
    {
        await authentication.SignOutAsync(context.Caller(), everywhere: true, context.RequestId, context.CancellationToken);
        return new SignOutResponse();
    }

    // A session still waiting for its second factor must not be able to change the password.
    [RpcAccess(Identity.Roles.Admin, Identity.Roles.Approver, Identity.Roles.Clerk, Identity.Roles.Auditor, RateLimited = true, PeopleOnly = true)]
    public async Task<Contracts.Auth.V1.Session> ChangePassword(ChangePasswordRequest request, RpcCallContext context) =>
        ToMessage(await authentication.ChangePasswordAsync(
            context.Caller(), request.CurrentPassword, request.NewPassword, context.Address(), context.RequestId, context.CancellationToken));

    [RpcAccess(RpcAccessLevel.Session)]
    public async Task<SessionInfo> GetSession(GetSessionRequest request, RpcCallContext context)
    {
        var caller = context.Caller();
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, context.CancellationToken);
        var info = await unitOfWork.Connection.QuerySingleAsync<SessionRow>(new CommandDefinition(
            """
            select t.slug as TenantSlug, u.email as Email, u.mfa_enabled_at is not null as MfaEnrolled, t.mfa_required as TenantRequiresMfa
            from users u join tenants t on t.id = u.tenant_id where u.id = @userId
            """,
            new { userId = caller.UserId }, unitOfWork.Transaction, cancellationToken: context.CancellationToken));
        return new SessionInfo
        {
            TenantId = caller.TenantId.ToString(),
            TenantSlug = info.TenantSlug,
            UserId = caller.UserId.ToString(),
            Email = info.Email,
            Role = caller.Role,
            MfaSatisfied = caller.MfaSatisfied,
            MfaEnrolled = info.MfaEnrolled,
            TenantRequiresMfa = info.TenantRequiresMfa,
        };
    }

    [RpcAccess(RpcAccessLevel.Anonymous, RateLimited = true)]
    public async Task<SignInResponse> AcceptInvitation(AcceptInvitationRequest request, RpcCallContext context) =>
        ToResponse(await authentication.AcceptInvitationAsync(
            request.InvitationToken, request.Password, request.DisplayName, context.RequestId, context.CancellationToken));

    private static SignInResponse ToResponse(SignInOutcome outcome) => new()
    {
        Session = ToMessage(outcome.Session),
        NextStep = outcome.NextStep switch
        {
            NextStep.VerifyMfa => Contracts.Auth.V1.NextStep.VerifyMfa,
            NextStep.EnrolMfa => Contracts.Auth.V1.NextStep.EnrolMfa,
            _ => Contracts.Auth.V1.NextStep.None,
        },
    };

    private static Contracts.Auth.V1.Session ToMessage(IssuedSession session) => new()
    {
        AccessToken = session.AccessToken,
        AccessTokenExpiresAt = Timestamp.FromDateTimeOffset(session.AccessTokenExpiresAt),
        RefreshToken = session.RefreshToken,
        RefreshTokenExpiresAt = Timestamp.FromDateTimeOffset(session.RefreshTokenExpiresAt),
        MfaSatisfied = session.MfaSatisfied,
    };

    private sealed record SessionRow(string TenantSlug, string Email, bool MfaEnrolled, bool TenantRequiresMfa);
}
