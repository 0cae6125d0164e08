using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Identity.Encryption;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Passwords;
using Invisible.Identity.Tokens;
using Invisible.Server.FieldEncryption;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Invisible.Server.Accounts;

public enum NextStep
{
    None,
    VerifyMfa,
    EnrolMfa,
}

public sealed record SignInOutcome(IssuedSession Session, NextStep NextStep);

/// <summary>Password sign-in, password change and invitation acceptance: everything that checks or sets a password.</summary>
public sealed class Authentication(
    CrossTenantLookup lookup,
    TenantDirectory tenants,
    TenantDatabase database,
    Sessions sessions,
    SignInThrottles throttles,
    IpAllowlists allowlists,
    PersonalDataKeys personalDataKeys,
    ILogger<Authentication> logger)
{
    public async Task<SignInOutcome> SignInAsync(
        string email, string password, string? tenantSlug, string address, string? requestId, CancellationToken cancellationToken)
    {
        var candidates = await CandidatesAsync(email, tenantSlug, cancellationToken);
        if (await throttles.BeginAttemptAsync(email, address, cancellationToken) is { } retryAfter)
        {
            // Refused without looking at the password: guessing costs the attacker time and us no hashing.
            Invisible.Data.Diagnostics.ProductDiagnostics.SignInFailures.Add(1, new KeyValuePair<string, object?>("reason", "throttled"));
            await AuditEachAsync(candidates, "auth.sign_in_refused_locked", new { address }, requestId, cancellationToken);
            logger.LogWarning("Sign-in refused without checking: too many failures for the account or from {Address}", address);
            throw AuthErrors.TooManyAttempts(retryAfter);
        }

        // An unknown address is looked up and verified like a known one, against a tenant and user that do not exist and
        // the decoy hash: the same round trips and the same PBKDF2 work, so neither time nor the answer tells them apart.
        var checkedUsers = candidates.Count > 0 ? candidates : [new TenantScopedId(Guid.NewGuid(), Guid.NewGuid())];
        var matches = new List<(TenantScopedId Id, bool NeedsRehash)>();
        foreach (var candidate in checkedUsers)
        {
            await using var unitOfWork = await database.BeginAsync(candidate.TenantId, cancellationToken);
            var user = await UserAccounts.FindForUpdateAsync(unitOfWork, candidate.Id, cancellationToken);
            var (matched, rehash) = PasswordHashing.Verify(user?.PasswordHash, password);
            if (matched)
            {
                matches.Add((candidate, rehash));
            }
        }

        if (matches.Count == 0)
        {
            // Already counted by the throttle (BeginAttemptAsync).
            Invisible.Data.Diagnostics.ProductDiagnostics.SignInFailures.Add(1, new KeyValuePair<string, object?>("reason", "password"));
            await AuditEachAsync(candidates, "auth.sign_in_failed", new { address }, requestId, cancellationToken);
            throw AuthErrors.SignInFailed();
        }

        if (matches.Count > 1)
        {
            await throttles.WithdrawAttemptAsync(email, address, cancellationToken);
            throw AuthErrors.TenantRequired();
        }

        await throttles.RecordSuccessAsync(email, address, cancellationToken);
        var (match, needsRehash) = matches[0];
        await using (var unitOfWork = await database.BeginAsync(match.TenantId, cancellationToken))
        {
            // Not verified again: the check above is the one that counted, and a second PBKDF2 would only cost time.
            var user = (await UserAccounts.FindForUpdateAsync(unitOfWork, match.Id, cancellationToken))!;
            // After the password: only someone who knows it learns that the network, not the password, was the problem.
            if (!await allowlists.AllowsAsync(unitOfWork, address, $"user:{user.Id}", "sign_in", requestId, cancellationToken))
            {
                await unitOfWork.CommitAsync(cancellationToken);
                throw AuthErrors.AddressNotAllowed();
            }

            var users = unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.Id).Set(row => row.LastSignInAt, Sql.CurrentTzTimestamp);
            await (needsRehash ? users.Set(row => row.PasswordHash, PasswordHashing.Hash(password)) : users).UpdateAsync(cancellationToken);
            var next = user.MfaEnrolled ? NextStep.VerifyMfa
                : await UserAccounts.TenantRequiresMfaAsync(unitOfWork, cancellationToken) ? NextStep.EnrolMfa
                : NextStep.None;
            var session = await sessions.StartAsync(unitOfWork, user, mfaSatisfied: false, cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, $"user:{user.Id}", "auth.signed_in", "user", user.Id.ToString(), null,
                new { address, nextStep = next.ToString() }, requestId, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
            return new SignInOutcome(session, next);
        }
    }

    /// <summary>Sets a new password after checking the current one; every other session of the user ends.</summary>
    public async Task<IssuedSession> ChangePasswordAsync(
        Caller caller, string currentPassword, string newPassword, string address, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        var user = await UserAccounts.FindForUpdateAsync(unitOfWork, caller.UserId, cancellationToken) ?? throw AuthErrors.SessionEnded();
        var email = user.EmailAddress(await personalDataKeys.DataAsync(cancellationToken));
        if (await throttles.BeginAttemptAsync(email, address, cancellationToken) is { } retryAfter)
        {
            throw AuthErrors.TooManyAttempts(retryAfter);
        }

        if (!PasswordHashing.Verify(user.PasswordHash, currentPassword).Matches)
        {
            await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "user.password_change_failed", "user", user.Id.ToString(), null, null, requestId, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
            throw AuthErrors.CurrentPasswordWrong();
        }

        await throttles.RecordSuccessAsync(email, address, cancellationToken);

        if (PasswordPolicy.Check(newPassword, email) is { Count: > 0 } problems)
        {
            throw AuthErrors.WeakPassword(problems);
        }

        await unitOfWork.Db.GetTable<UserRow>().Where(row => row.Id == user.Id)
            .Set(row => row.PasswordHash, PasswordHashing.Hash(newPassword)).UpdateAsync(cancellationToken);
        var stamp = await UserAccounts.RotateSecurityStampAsync(unitOfWork, user.Id, cancellationToken);
        var ended = await Sessions.EndAllAsync(unitOfWork, user.Id, keep: caller.SessionId, cancellationToken);
        var session = await sessions.ContinueAsync(unitOfWork, user with { SecurityStamp = stamp }, caller.SessionId, caller.MfaSatisfied, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "user.password_changed", "user", user.Id.ToString(), null,
            new { otherSessionsEnded = ended }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return session;
    }

    /// <summary>Creates the invited user with their chosen password; the link works once.</summary>
    public async Task<SignInOutcome> AcceptInvitationAsync(
        string invitationToken, string password, string displayName, string? requestId, CancellationToken cancellationToken)
    {
        var found = await lookup.FindInvitationAsync(OpaqueTokens.Hash(invitationToken ?? string.Empty), cancellationToken)
            ?? throw AuthErrors.InvitationInvalid();
        await using var unitOfWork = await database.BeginAsync(found.TenantId, cancellationToken);
        // SQL: a row lock ('for update') while the invitation is accepted.
        var pending = (await unitOfWork.Db.QueryToListAsync<PendingInvitation>(
            """
            select email_encrypted as EmailEncrypted, role as Role, invited_by as InvitedBy,
                   accepted_at is null and revoked_at is null and expires_at > now() as Usable
            from invitations where id = @id for update
            """, new { id = found.Id }, cancellationToken)).Single();
        var data = await personalDataKeys.DataAsync(cancellationToken);
        var invitation = (Email: data.Open(pending.EmailEncrypted, PersonalDataFields.OfInvitation(found.TenantId, found.Id))!, pending.Role, pending.InvitedBy, pending.Usable);
        if (!invitation.Usable)
        {
            throw AuthErrors.InvitationInvalid();
        }

        if (PasswordPolicy.Check(password, invitation.Email) is { Count: > 0 } problems)
        {
            throw AuthErrors.WeakPassword(problems);
        }

        // The id is chosen here: the sealed address is bound to it before the row exists.
        var userId = Guid.NewGuid();
        try
        {
            await unitOfWork.Db.InsertAsync(new UserRow
            {
                Id = userId, TenantId = found.TenantId, DisplayName = displayName ?? string.Empty, Role = invitation.Role, PasswordHash = PasswordHashing.Hash(password),
                EmailEncrypted = data.Seal(invitation.Email, PersonalDataFields.OfUser(found.TenantId, userId))!,
                EmailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(invitation.Email)!,
            }, token: cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw AuthErrors.InvitationInvalid();
        }

        await unitOfWork.Db.GetTable<InvitationRow>().Where(row => row.Id == found.Id)
            .Set(row => row.AcceptedAt, Sql.CurrentTzTimestamp).UpdateAsync(cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, $"user:{userId}", "invitation.accepted", "invitation", found.Id.ToString(), null,
            new { email = invitation.Email, role = invitation.Role }, requestId, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, $"user:{userId}", "user.created", "user", userId.ToString(), null,
            new { email = invitation.Email, role = invitation.Role, invitedBy = invitation.InvitedBy }, requestId, cancellationToken);
        var user = (await UserAccounts.FindForUpdateAsync(unitOfWork, userId, cancellationToken))!;
        var next = await UserAccounts.TenantRequiresMfaAsync(unitOfWork, cancellationToken) ? NextStep.EnrolMfa : NextStep.None;
        var session = await sessions.StartAsync(unitOfWork, user, mfaSatisfied: false, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return new SignInOutcome(session, next);
    }

    public async Task SignOutAsync(Caller caller, bool everywhere, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        if (everywhere)
        {
            var ended = await Sessions.EndAllAsync(unitOfWork, caller.UserId, keep: null, cancellationToken);
            await UserAccounts.RotateSecurityStampAsync(unitOfWork, caller.UserId, cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "auth.signed_out_everywhere", "user", caller.UserId.ToString(), null,
                new { tokensRevoked = ended }, requestId, cancellationToken);
        }
        else
        {
            await Sessions.EndAsync(unitOfWork, caller.SessionId, cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "auth.signed_out", "session", caller.SessionId.ToString(), null, null, requestId, cancellationToken);
        }

        await unitOfWork.CommitAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<TenantScopedId>> CandidatesAsync(string email, string? tenantSlug, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            return [];
        }

        var emailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(email)!;
        var candidates = await lookup.FindUsersByEmailIndexAsync(emailIndex, cancellationToken);
        if (string.IsNullOrWhiteSpace(tenantSlug) || candidates.Count == 0)
        {
            return candidates;
        }

        var tenant = await tenants.FindBySlugAsync(tenantSlug.Trim(), cancellationToken);
        return candidates.Where(candidate => candidate.TenantId == tenant?.Id).ToList();
    }

    private async Task AuditEachAsync(IReadOnlyList<TenantScopedId> users, string action, object details, string? requestId, CancellationToken cancellationToken)
    {
        foreach (var user in users)
        {
            await using var unitOfWork = await database.BeginAsync(user.TenantId, cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, $"user:{user.Id}", action, "user", user.Id.ToString(), null, details, requestId, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }
    }

    private sealed record PendingInvitation(byte[] EmailEncrypted, string Role, Guid? InvitedBy, bool Usable);
}
