using Invisible.Rpc;

namespace Invisible.Server.Accounts;

/// <summary>
/// The errors of authentication, as clients see them: deliberately few and generic (no "unknown e-mail" versus "wrong
/// password"); the precise cause goes to the log and the audit trail. Clients branch on the reason.
/// </summary>
public static class AuthErrors
{
    public const string Domain = "auth.invisible.app";

    public static RpcException SignInFailed() => RpcException.WithReason(
        StatusCode.Unauthenticated, "The e-mail address or password is incorrect.", "SIGN_IN_FAILED", Domain);

    public static RpcException TooManyAttempts(TimeSpan retryAfter) => RpcException.WithReason(
        StatusCode.ResourceExhausted, "Too many attempts. Try again later.", "TOO_MANY_ATTEMPTS", Domain,
        new Dictionary<string, string> { ["retry_after_seconds"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public static RpcException CurrentPasswordWrong() => RpcException.WithReason(
        StatusCode.PermissionDenied, "The current password is incorrect.", "CURRENT_PASSWORD_WRONG", Domain);

    public static RpcException TenantRequired() => RpcException.WithReason(
        StatusCode.FailedPrecondition, "This e-mail address has accounts in several organisations; choose one.", "TENANT_REQUIRED", Domain);

    public static RpcException CodeRejected() => RpcException.WithReason(
        StatusCode.PermissionDenied, "The code is not valid. Use the current code from your authenticator app.", "MFA_CODE_REJECTED", Domain);

    public static RpcException NoEnrolmentPending() => RpcException.WithReason(
        StatusCode.FailedPrecondition, "Start the MFA enrolment first.", "MFA_ENROLMENT_NOT_STARTED", Domain);

    public static RpcException MfaNotEnrolled() => RpcException.WithReason(
        StatusCode.FailedPrecondition, "Set up multi-factor authentication first.", "MFA_NOT_ENROLLED", Domain);

    public static RpcException SessionEnded() => RpcException.WithReason(
        StatusCode.Unauthenticated, "The session has ended. Sign in again.", "SESSION_ENDED", Domain);

    public static RpcException InvitationInvalid() => RpcException.WithReason(
        StatusCode.NotFound, "This invitation link is not valid any more. Ask for a new one.", "INVITATION_INVALID", Domain);

    public static RpcException WeakPassword(IReadOnlyList<string> problems) => RpcException.InvalidArgument(
        "The password does not meet the policy.", problems.Select(problem => new FieldViolation("password", problem)));

    public static RpcException LastAdmin() => RpcException.WithReason(
        StatusCode.FailedPrecondition, "This is the organisation's last enabled administrator. Make another user an administrator first.",
        "LAST_ADMIN", Domain);

    public static RpcException NotFound(string entity) => RpcException.WithReason(
        StatusCode.NotFound, $"No such {entity}.", "NOT_FOUND", Domain);
}
