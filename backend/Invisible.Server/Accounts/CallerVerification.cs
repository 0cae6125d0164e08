using LinqToDB.Async;
using LinqToDB;
using LinqToDB.Data;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;

namespace Invisible.Server.Accounts;

/// <summary>
/// Checks credentials against the database on every request: an access token only claims a session, which may have been
/// ended (sign-out, password or MFA change, role change, disabled user) since it was issued.
/// </summary>
public sealed class CallerVerification(TenantDatabase database, CrossTenantLookup lookup)
{
    /// <summary>
    /// The caller if the token's session is still live; null when it has ended. The token only names the user and the session:
    /// the role is the user's current one and <see cref="Caller.MfaSatisfied"/> is true when the session passed the second
    /// factor or neither the tenant nor the user's own enrolment demands one, whatever the token claims.
    /// </summary>
    public async Task<Caller?> VerifySessionAsync(Caller claimed, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(claimed.TenantId, cancellationToken);
        // SQL: one statement reads stamp, role, MFA and the session's state across users, tenants and refresh_tokens.
        var state = (await unitOfWork.Db.QueryToListAsync<SessionState>(
            """
            select security_stamp as SecurityStamp, disabled as Disabled, role as Role, mfa_enrolled as MfaEnrolled,
                   tenant_requires_mfa as TenantRequiresMfa, session_active as SessionActive,
                   session_mfa_satisfied as SessionMfaSatisfied
            from auth_session_state(@userId, @sessionId)
            """, new { userId = claimed.UserId, sessionId = claimed.SessionId }, cancellationToken)).SingleOrDefault();
        if (state is null || state.Disabled || !state.SessionActive || state.SecurityStamp != claimed.SecurityStamp)
        {
            return null;
        }

        return claimed with { Role = state.Role, MfaSatisfied = state.SessionMfaSatisfied || (!state.MfaEnrolled && !state.TenantRequiresMfa) };
    }

    /// <summary>The service account of an API key (valid, unexpired, not revoked); null otherwise.</summary>
    public async Task<Caller?> AuthenticateApiKeyAsync(string key, CancellationToken cancellationToken)
    {
        var found = await lookup.FindApiKeyAsync(OpaqueTokens.Hash(key), cancellationToken);
        if (found is null)
        {
            return null;
        }

        await using var unitOfWork = await database.BeginAsync(found.TenantId, cancellationToken);
        // last_used_at at minute resolution: enough to spot unused keys. Only a stale one is written, so concurrent requests
        // with one key do not queue on its row lock, and most requests commit no write at all.
        // SQL: a conditional update ... returning in a CTE, so a fresh key writes nothing and takes no row lock.
        var role = await unitOfWork.Db.ExecuteAsync<string?>(
            """
            with touched as (
                update api_keys set last_used_at = now()
                where id = @id and revoked_at is null and (last_used_at is null or last_used_at <= now() - interval '1 minute')
            )
            select role from api_keys where id = @id and revoked_at is null and (expires_at is null or expires_at > now())
            """, new { id = found.Id }, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return role is null
            ? null
            : new Caller(found.TenantId, found.Id, role, found.Id, Guid.Empty, MfaSatisfied: true) { Kind = CallerKind.ApiKey };
    }

    /// <summary>
    /// Whether <paramref name="caller"/>, verified when its call started, may still call: for a person the session is live and
    /// the role unchanged (a role change also rotates the security stamp), for an API key it is neither revoked nor expired.
    /// </summary>
    public async Task<bool> IsStillValidAsync(Caller caller, CancellationToken cancellationToken)
    {
        switch (caller.Kind)
        {
            case CallerKind.User:
                return await VerifySessionAsync(caller, cancellationToken) is { } current && current.Role == caller.Role;
            case CallerKind.ApiKey:
                await using (var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken))
                {
                    var role = await unitOfWork.Db.GetTable<ApiKeyValidityRow>()
                        .Where(key => key.Id == caller.UserId && key.RevokedAt == null && (key.ExpiresAt == null || key.ExpiresAt > Sql.CurrentTzTimestamp))
                        .Select(key => key.Role).FirstOrDefaultAsync(cancellationToken);
                    return role == caller.Role;
                }

            default:
                return true;
        }
    }

    private sealed record SessionState(
        Guid SecurityStamp, bool Disabled, string Role, bool MfaEnrolled, bool TenantRequiresMfa, bool SessionActive, bool SessionMfaSatisfied);
}
