namespace Invisible.Platform.Secrets;

/// <summary>
/// Secret names the product reads. In dapr mode they are keys of the <c>secretstore</c> component
/// (see <c>components/secrets.json</c>); in embedded mode keys of the local secrets file.
/// </summary>
public static class SecretNames
{
    /// <summary>Base64 of 64 random bytes: the HMAC key that signs access tokens.</summary>
    public const string JwtSigningKey = "jwt-signing-key";

    /// <summary>Base64 of 32 random bytes (several, newest first, while rotating): the AES-256-GCM key that encrypts TOTP secrets at rest.</summary>
    public const string TotpEncryptionKey = "totp-encryption-key";

    /// <summary>Base64 of 32 random bytes: the HMAC key recovery codes are stored under, so a database copy cannot test guesses.</summary>
    public const string RecoveryCodeKey = "recovery-code-key";

    /// <summary>Base64 of 32 random bytes (several, newest first, while rotating): the AES-256-GCM key that encrypts personal and banking data at rest (e-mail addresses, tax ids).</summary>
    public const string PersonalDataEncryptionKey = "personal-data-encryption-key";

    /// <summary>Base64 of 32 random bytes: the HMAC key of the blind indexes personal data is looked up by (sign-in by e-mail, vendors by tax id). Never rotated without re-indexing.</summary>
    public const string BlindIndexKey = "blind-index-key";

    public const string QuickBooksClientId = "quickbooks-client-id";
    public const string QuickBooksClientSecret = "quickbooks-client-secret";
    public const string SmtpPassword = "smtp-password";

    /// <summary>The password of the IMAP mailbox a tenant's admin connected (intake_mailboxes.secret_name).</summary>
    public static string IntakeMailboxPassword(Guid tenantId) => $"intake-mailbox-{tenantId:N}";
}
