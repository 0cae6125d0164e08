using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Auth.V1;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;
using LinqToDB;
using LinqToDB.Async;
using Grpc.Core;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Accounts;

/// <summary><c>invisible.auth.v1.AuthService</c>: sign-in, second factor, sessions.</summary>
public sealed class AuthServiceHandler(
    Authentication authentication, MultiFactor multiFactor, Sessions sessions, PasswordRecovery recovery, TenantDatabase database, PersonalDataKeys personalDataKeys)
    : AuthService.AuthServiceBase
{
    [AllowAnonymous]
    [SignInRateLimited]
    public override async Task<SignInResponse> SignIn(SignInRequest request, ServerCallContext context)
    {
        var outcome = await authentication.SignInAsync(
            request.Email, request.Password, request.TenantSlug, context.Address(), context.RequestId(), context.CancellationToken);
        return ToResponse(outcome);
    }

    [Authorize(Policy = AccessPolicies.SignedIn)]
    [SignInRateLimited]
    public override async Task<Contracts.Auth.V1.Session> VerifyMfa(VerifyMfaRequest request, ServerCallContext context) =>
        ToMessage(await multiFactor.VerifyAsync(
            context.Caller(), request.TotpCode, request.RecoveryCode, context.Address(), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.SignedIn)]
    public override async Task<BeginMfaEnrolmentResponse> BeginMfaEnrolment(BeginMfaEnrolmentRequest request, ServerCallContext context)
    {
        var enrolment = await multiFactor.BeginEnrolmentAsync(context.Caller(), context.RequestId(), context.CancellationToken);
        return new BeginMfaEnrolmentResponse { OtpauthUri = enrolment.OtpAuthUri.AbsoluteUri, SecretBase32 = enrolment.SecretBase32 };
    }

    [Authorize(Policy = AccessPolicies.SignedIn)]
    [SignInRateLimited]
    public override async Task<ConfirmMfaEnrolmentResponse> ConfirmMfaEnrolment(ConfirmMfaEnrolmentRequest request, ServerCallContext context)
    {
        var confirmed = await multiFactor.ConfirmEnrolmentAsync(
            context.Caller(), request.TotpCode, context.Address(), context.RequestId(), context.CancellationToken);
        return new ConfirmMfaEnrolmentResponse { RecoveryCodes = { confirmed.RecoveryCodes }, Session = ToMessage(confirmed.Session) };
    }

    [AllowAnonymous]
    [SignInRateLimited]
    public override async Task<Contracts.Auth.V1.Session> Refresh(RefreshRequest request, ServerCallContext context) =>
        ToMessage(await sessions.RefreshAsync(request.RefreshToken, context.Address(), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.SignedIn)]
    public override async Task<SignOutResponse> SignOut(SignOutRequest request, ServerCallContext context)
    {
        await authentication.SignOutAsync(context.Caller(), everywhere: false, context.RequestId(), context.CancellationToken);
        return new SignOutResponse();
    }

    [Authorize(Policy = AccessPolicies.SignedIn)]
    public override async Task<SignOutResponse> SignOutEverywhere(SignOutEverywhereRequest request, ServerCallContext context)
    {
        await authentication.SignOutAsync(context.Caller(), everywhere: true, context.RequestId(), context.CancellationToken);
        return new SignOutResponse();
    }

    // A session still waiting for its second factor must not be able to change the password.
    [Authorize(Policy = AccessPolicies.Person)]
    [SignInRateLimited]
    public override async Task<Contracts.Auth.V1.Session> ChangePassword(ChangePasswordRequest request, ServerCallContext context) =>
        ToMessage(await authentication.ChangePasswordAsync(
            context.Caller(), request.CurrentPassword, request.NewPassword, context.Address(), context.RequestId(), context.CancellationToken));

    [Authorize(Policy = AccessPolicies.SignedIn)]
    public override async Task<SessionInfo> GetSession(GetSessionRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, context.CancellationToken);
        var info = await (
            from user in unitOfWork.Db.GetTable<UserRow>()
            join tenant in unitOfWork.Db.GetTable<AccountTenantRow>() on user.TenantId equals tenant.Id
            where user.Id == caller.UserId
            select new { tenant.Slug, user.EmailEncrypted, MfaEnrolled = user.MfaEnabledAt != null, tenant.MfaRequired }).SingleAsync(context.CancellationToken);
        var email = (await personalDataKeys.DataAsync(context.CancellationToken)).Open(info.EmailEncrypted, PersonalDataFields.OfUser(caller.TenantId, caller.UserId))!;
        return new SessionInfo
        {
            TenantId = caller.TenantId.ToString(),
            TenantSlug = info.Slug,
            UserId = caller.UserId.ToString(),
            Email = email,
            Role = caller.Role,
            MfaSatisfied = caller.MfaSatisfied,
            MfaEnrolled = info.MfaEnrolled,
            TenantRequiresMfa = info.MfaRequired,
        };
    }

    [AllowAnonymous]
    [SignInRateLimited]
    public override async Task<SignInResponse> AcceptInvitation(AcceptInvitationRequest request, ServerCallContext context) =>
        ToResponse(await authentication.AcceptInvitationAsync(
            request.InvitationToken, request.Password, request.DisplayName, context.RequestId(), context.CancellationToken));

    [AllowAnonymous]
    [SignInRateLimited]
    public override async Task<RequestPasswordResetResponse> RequestPasswordReset(RequestPasswordResetRequest request, ServerCallContext context)
    {
        await recovery.RequestAsync(request.Email, request.TenantSlug, context.Address(), context.RequestId(), context.CancellationToken);
        return new RequestPasswordResetResponse();
    }

    [AllowAnonymous]
    [SignInRateLimited]
    public override async Task<ResetPasswordResponse> ResetPassword(ResetPasswordRequest request, ServerCallContext context)
    {
        await recovery.ResetAsync(request.Token, request.NewPassword, context.Address(), context.RequestId(), context.CancellationToken);
        return new ResetPasswordResponse();
    }

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

}
