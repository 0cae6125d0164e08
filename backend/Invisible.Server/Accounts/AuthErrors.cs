using Invisible.Server.Errors;


namespace Invisible.Server.Accounts;

/// <summary>
/// The errors of authentication, as clients see them: deliberately few and generic (no "unknown e-mail" versus "wrong
/// password"); the precise cause goes to the log and the audit trail. Clients branch on the reason.
/// </summary>
public static class AuthErrors
{
    public const string Domain = "auth.invisible.app";

    public static DomainException SignInFailed() => DomainException.WithReason(
        ErrorKind.Unauthenticated, "The e-mail address or password is incorrect.", "SIGN_IN_FAILED", Domain);

    public static DomainException TooManyAttempts(TimeSpan retryAfter) => DomainException.WithReason(
        ErrorKind.ResourceExhausted, "Too many attempts. Try again later.", "TOO_MANY_ATTEMPTS", Domain,
        new Dictionary<string, string> { ["retry_after_seconds"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>The tenant's IP allowlist does not include the caller's address (the refusal is audited).</summary>
    public static DomainException AddressNotAllowed() => DomainException.WithReason(
        ErrorKind.PermissionDenied, "Your organisation does not allow access from this network.", "ADDRESS_NOT_ALLOWED", Domain);

    public static DomainException CurrentPasswordWrong() => DomainException.WithReason(
        ErrorKind.PermissionDenied, "The current password is incorrect.", "CURRENT_PASSWORD_WRONG", Domain);

    public static DomainException TenantRequired() => DomainException.WithReason(
        ErrorKind.FailedPrecondition, "This e-mail address has accounts in several organisations; choose one.", "TENANT_REQUIRED", Domain);

    public static DomainException CodeRejected() => DomainException.WithReason(
        ErrorKind.PermissionDenied, "The code is not valid. Use the current code from your authenticator app.", "MFA_CODE_REJECTED", Domain);

    /// <summary>The key that sealed the user's authenticator secret is no longer in the server's key ring (an operator's matter).</summary>
    public static DomainException MfaKeyUnavailable() => DomainException.WithReason(
        ErrorKind.FailedPrecondition,
        "Codes from your authenticator app cannot be checked at the moment: the server is missing the key that protects them. " +
        "Sign in with one of your recovery codes, or ask your administrator to restore the TOTP encryption key.",
        "MFA_KEY_UNAVAILABLE", Domain);

    public static DomainException NoEnrolmentPending() => DomainException.WithReason(
        ErrorKind.FailedPrecondition, "Start the MFA enrolment first.", "MFA_ENROLMENT_NOT_STARTED", Domain);

    public static DomainException MfaNotEnrolled() => DomainException.WithReason(
        ErrorKind.FailedPrecondition, "Set up multi-factor authentication first.", "MFA_NOT_ENROLLED", Domain);

    public static DomainException SessionEnded() => DomainException.WithReason(
        ErrorKind.Unauthenticated, "The session has ended. Sign in again.", "SESSION_ENDED", Domain);

    public static DomainException InvitationInvalid() => DomainException.WithReason(
        ErrorKind.NotFound, "This invitation link is not valid any more. Ask for a new one.", "INVITATION_INVALID", Domain);

    public static DomainException PasswordResetUsed() => DomainException.WithReason(
        ErrorKind.FailedPrecondition, "This link was already used. To set another password, ask for a new link.", "PASSWORD_RESET_USED", Domain);

    public static DomainException PasswordResetExpired() => DomainException.WithReason(
        ErrorKind.FailedPrecondition, "This link has expired. Ask for a new one.", "PASSWORD_RESET_EXPIRED", Domain);

    public static DomainException PasswordResetInvalid() => DomainException.WithReason(
        ErrorKind.NotFound, "This link is not valid. Ask for a new one.", "PASSWORD_RESET_INVALID", Domain);

    public static DomainException WeakPassword(IReadOnlyList<string> problems) => DomainException.InvalidArgument(
        "The password does not meet the policy.", problems.Select(problem => new FieldViolation("password", problem)));

    public static DomainException LastAdmin() => DomainException.WithReason(
        ErrorKind.FailedPrecondition, "This is the organisation's last enabled administrator. Make another user an administrator first.",
        "LAST_ADMIN", Domain);

    public static DomainException NotFound(string entity) => DomainException.WithReason(
        ErrorKind.NotFound, $"No such {entity}.", "NOT_FOUND", Domain);
}
