using LinqToDB;
using Invisible.Server.FieldEncryption;
using LinqToDB.Data;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Encryption;
using Invisible.Identity.Mfa;
using Invisible.Identity.Tokens;
using Microsoft.Extensions.Options;
using Invisible.Server.Errors;

namespace Invisible.Server.Accounts;

public sealed record MfaEnrolment(Uri OtpAuthUri, string SecretBase32);

public sealed record ConfirmedEnrolment(IReadOnlyList<string> RecoveryCodes, IssuedSession Session);

/// <summary>
/// TOTP enrolment and verification (RFC 6238, replay rejected), and the one-time recovery codes. TOTP secrets are stored
/// sealed by <see cref="MfaSecretVault"/> and opened only for the check.
/// </summary>
public sealed class MultiFactor(
    TenantDatabase database, Sessions sessions, SignInThrottles throttles, MfaSecretVault vault, RecoveryCodeKey recoveryCodeKey, IOptions<AccountsOptions> options, TimeProvider time,
    PersonalDataKeys personalDataKeys)
{
    /// <summary>Completes the sign-in of this session with a code from the app or a recovery code.</summary>
    public async Task<IssuedSession> VerifyAsync(
        Caller caller, string? totpCode, string? recoveryCode, string address, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        var user = await UserAccounts.FindForUpdateAsync(unitOfWork, caller.UserId, cancellationToken) ?? throw AuthErrors.SessionEnded();
        if (!user.MfaEnrolled || user.SealedMfaSecret is not { } sealedSecret)
        {
            throw AuthErrors.MfaNotEnrolled();
        }

        // Codes are guessable in a way passwords are not (10^6 values, three valid at a time), so failures lock like passwords.
        if (await throttles.BeginAttemptAsync(user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken)), address, cancellationToken) is { } retryAfter)
        {
            throw AuthErrors.TooManyAttempts(retryAfter);
        }

        if (!string.IsNullOrEmpty(recoveryCode))
        {
            var remaining = RecoveryCodes.Redeem(await recoveryCodeKey.GetAsync(cancellationToken), user.RecoveryCodeHashes, recoveryCode);
            if (remaining is null)
            {
                throw await RejectAsync(unitOfWork, caller, user, "recovery_code_unknown", requestId, cancellationToken);
            }

            await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.Id)
                .Set(row => row.RecoveryCodeHashes, remaining.ToArray()).UpdateAsync(cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "auth.recovery_code_used", "user", user.Id.ToString(), null,
                new { codesLeft = remaining.Count }, requestId, cancellationToken);
        }
        else
        {
            byte[] secret;
            try
            {
                secret = await vault.OpenAsync(user.TenantId, user.Id, sealedSecret, cancellationToken);
            }
            catch (UnknownEncryptionKeyException)
            {
                // Not the person's mistake: the attempt is not held against them, and they are told what still works.
                await throttles.WithdrawAttemptAsync(user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken)), address, cancellationToken);
                throw AuthErrors.MfaKeyUnavailable();
            }

            var verification = Totp.Verify(secret, totpCode, time.GetUtcNow(), user.MfaLastStep);
            if (!verification.Accepted)
            {
                throw await RejectAsync(unitOfWork, caller, user, verification.Rejection.ToString()!.ToLowerInvariant(), requestId, cancellationToken);
            }

            await RecordStepAsync(unitOfWork, user.Id, verification.Step!.Value, cancellationToken);
            if (await vault.NeedsResealingAsync(sealedSecret, cancellationToken))
            {
                // Written before encryption, or under a key being retired: seal it with the current key now that it is in hand.
                var resealed = await vault.SealAsync(user.TenantId, user.Id, secret, cancellationToken);
                await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.Id)
                    .Set(row => row.MfaSecret, resealed.Value).Set(row => row.MfaSecretKeyId, resealed.KeyId).UpdateAsync(cancellationToken);
            }

            await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "auth.mfa_verified", "user", user.Id.ToString(), null, null, requestId, cancellationToken);
        }

        await throttles.RecordSuccessAsync(user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken)), address, cancellationToken);
        var session = await sessions.ContinueAsync(unitOfWork, user, caller.SessionId, mfaSatisfied: true, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return session;
    }

    /// <summary>A new secret to scan; the current one (if any) stays in force until the new one is confirmed.</summary>
    public async Task<MfaEnrolment> BeginEnrolmentAsync(Caller caller, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        var user = await UserAccounts.FindForUpdateAsync(unitOfWork, caller.UserId, cancellationToken) ?? throw AuthErrors.SessionEnded();
        if (user.MfaEnrolled && !caller.MfaSatisfied)
        {
            // Otherwise a stolen password alone could replace the victim's second factor.
            throw DomainException.WithReason(ErrorKind.PermissionDenied, "Verify your current second factor first.", "MFA_REQUIRED", AuthErrors.Domain);
        }

        var secret = Totp.NewSecret();
        var sealedSecret = await vault.SealAsync(user.TenantId, user.Id, secret, cancellationToken);
        await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.Id)
            .Set(row => row.MfaPendingSecret, sealedSecret.Value).Set(row => row.MfaPendingSecretKeyId, sealedSecret.KeyId).UpdateAsync(cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "auth.mfa_enrolment_started", "user", user.Id.ToString(), null, null, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        var email = user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken));
        return new MfaEnrolment(Totp.EnrolmentUri(secret, options.Value.TotpIssuer, email), Base32.Encode(secret));
    }

    /// <summary>Activates the pending secret with its first code; issues new recovery codes and ends every other session.</summary>
    public async Task<ConfirmedEnrolment> ConfirmEnrolmentAsync(
        Caller caller, string? totpCode, string address, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        var user = await UserAccounts.FindForUpdateAsync(unitOfWork, caller.UserId, cancellationToken) ?? throw AuthErrors.SessionEnded();
        if (user.SealedPendingMfaSecret is not { } sealedPending)
        {
            throw AuthErrors.NoEnrolmentPending();
        }

        // A code guess like any other: counted before it is checked, refused while locked.
        if (await throttles.BeginAttemptAsync(user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken)), address, cancellationToken) is { } retryAfter)
        {
            throw AuthErrors.TooManyAttempts(retryAfter);
        }

        var pendingSecret = await vault.OpenAsync(user.TenantId, user.Id, sealedPending, cancellationToken);
        var verification = Totp.Verify(pendingSecret, totpCode, time.GetUtcNow(), lastAcceptedStep: null);
        if (!verification.Accepted)
        {
            throw await RejectAsync(unitOfWork, caller, user, verification.Rejection.ToString()!.ToLowerInvariant(), requestId, cancellationToken);
        }

        await throttles.RecordSuccessAsync(user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken)), address, cancellationToken);

        var codes = RecoveryCodes.Generate();
        var codeKey = await recoveryCodeKey.GetAsync(cancellationToken);
        // The pending secret moves into place column to column, in one statement.
        var hashes = codes.Select(code => RecoveryCodes.Protect(codeKey, code)).ToArray();
        await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.Id)
            .Set(row => row.MfaSecret, row => row.MfaPendingSecret)
            .Set(row => row.MfaSecretKeyId, row => row.MfaPendingSecretKeyId)
            .Set(row => row.MfaPendingSecret, (byte[]?)null)
            .Set(row => row.MfaPendingSecretKeyId, (string?)null)
            .Set(row => row.MfaEnabledAt, Sql.CurrentTzTimestamp)
            .Set(row => row.RecoveryCodeHashes, hashes)
            .UpdateAsync(cancellationToken);
        await RecordStepAsync(unitOfWork, user.Id, verification.Step!.Value, cancellationToken);
        var stamp = await UserAccounts.RotateSecurityStampAsync(unitOfWork, user.Id, cancellationToken);
        var ended = await Sessions.EndAllAsync(unitOfWork, user.Id, keep: caller.SessionId, cancellationToken);
        var session = await sessions.ContinueAsync(unitOfWork, user with { SecurityStamp = stamp }, caller.SessionId, mfaSatisfied: true, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "auth.mfa_enrolled", "user", user.Id.ToString(), null,
            new { otherSessionsEnded = ended }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return new ConfirmedEnrolment(codes, session);
    }

    private static Task<int> RecordStepAsync(TenantUnitOfWork unitOfWork, Guid userId, long step, CancellationToken cancellationToken) =>
        unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == userId).Set(row => row.MfaLastStep, step).UpdateAsync(cancellationToken);

    /// <summary>Audits the failure (committed, unlike anything else in this unit of work; already counted by the throttle); returns the refusal to throw.</summary>
    private static async Task<DomainException> RejectAsync(
        TenantUnitOfWork unitOfWork, Caller caller, UserAccount user, string reason, string? requestId, CancellationToken cancellationToken)
    {
        Invisible.Data.Diagnostics.ProductDiagnostics.SignInFailures.Add(1, new KeyValuePair<string, object?>("reason", "mfa"));
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "auth.mfa_failed", "user", user.Id.ToString(), null, new { reason }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return AuthErrors.CodeRejected();
    }
}
