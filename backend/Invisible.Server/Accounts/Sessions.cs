using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Microsoft.Extensions.Logging;

namespace Invisible.Server.Accounts;

/// <summary>What a client keeps after signing in: a 15-minute access token and a rotating refresh token.</summary>
public sealed record IssuedSession(
    string AccessToken, DateTimeOffset AccessTokenExpiresAt, string RefreshToken, DateTimeOffset RefreshTokenExpiresAt, bool MfaSatisfied);

/// <summary>
/// Sessions are refresh-token families (<c>refresh_tokens.family_id</c>, which is also the access token's <c>sid</c>). Every
/// refresh rotates the token; presenting a rotated token again means it was stolen or replayed, and revokes the family.
/// </summary>
public sealed class Sessions(
    AccessTokenService accessTokens, TenantDatabase database, CrossTenantLookup lookup, IpAllowlists allowlists, TimeProvider time, ILogger<Sessions> logger)
{
    public Task<IssuedSession> StartAsync(TenantUnitOfWork unitOfWork, UserAccount user, bool mfaSatisfied, CancellationToken cancellationToken) =>
        IssueAsync(unitOfWork, user, Guid.NewGuid(), mfaSatisfied, cancellationToken);

    /// <summary>Continues the session with a new token pair (e.g. once the second factor is verified); its current refresh token stops working.</summary>
    public async Task<IssuedSession> ContinueAsync(
        TenantUnitOfWork unitOfWork, UserAccount user, Guid sessionId, bool mfaSatisfied, CancellationToken cancellationToken)
    {
        var issued = await IssueAsync(unitOfWork, user, sessionId, mfaSatisfied, cancellationToken);
        // SQL: revokes the family's other tokens and links them to the new one by a correlated subquery, in one statement.
        await unitOfWork.Db.ExecuteAsync(
            """
            update refresh_tokens set revoked_at = now(), replaced_by = (select id from refresh_tokens where token_hash = @hash)
            where family_id = @sessionId and revoked_at is null and token_hash <> @hash
            """, new { sessionId, hash = RefreshTokens.Hash(issued.RefreshToken) }, cancellationToken);
        return issued;
    }

    public async Task<IssuedSession> RefreshAsync(string refreshToken, string address, string? requestId, CancellationToken cancellationToken)
    {
        var hash = RefreshTokens.Hash(refreshToken ?? string.Empty);
        var found = await lookup.FindRefreshTokenAsync(hash, cancellationToken) ?? throw AuthErrors.SessionEnded();
        await using var unitOfWork = await database.BeginAsync(found.TenantId, cancellationToken);
        // SQL: a row lock ('for update') while the token is rotated.
        var token = (await unitOfWork.Db.QueryToListAsync<StoredRefreshToken>(
            """
            select user_id as UserId, family_id as FamilyId, expires_at as ExpiresAt, revoked_at is not null as Revoked,
                   replaced_by is not null as Rotated, mfa_satisfied as MfaSatisfied
            from refresh_tokens where id = @id for update
            """, new { id = found.Id }, cancellationToken)).Single();

        if (token.Rotated)
        {
            var revoked = await EndAsync(unitOfWork, token.FamilyId, cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, $"user:{token.UserId}", "auth.refresh_token_reused", "session", token.FamilyId.ToString(),
                null, new { revokedTokens = revoked }, requestId, cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
            logger.LogWarning("A rotated refresh token of session {SessionId} was presented again; the session is revoked", token.FamilyId);
            throw AuthErrors.SessionEnded();
        }

        var user = await UserAccounts.FindForUpdateAsync(unitOfWork, token.UserId, cancellationToken);
        if (token.Revoked || token.ExpiresAt <= time.GetUtcNow().UtcDateTime || user is null || user.Disabled)
        {
            throw AuthErrors.SessionEnded();
        }

        if (!await allowlists.AllowsAsync(unitOfWork, address, $"user:{user.Id}", "refresh", requestId, cancellationToken))
        {
            await unitOfWork.CommitAsync(cancellationToken);
            throw AuthErrors.AddressNotAllowed();
        }

        var issued = await IssueAsync(unitOfWork, user, token.FamilyId, token.MfaSatisfied, cancellationToken);
        // SQL: revokes the token and links its successor by a correlated subquery, in one statement.
        await unitOfWork.Db.ExecuteAsync(
            "update refresh_tokens set revoked_at = now(), replaced_by = (select id from refresh_tokens where token_hash = @newHash) where id = @id", new { id = found.Id, newHash = RefreshTokens.Hash(issued.RefreshToken) }, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return issued;
    }

    /// <summary>Revokes every token of the session; returns how many were still live.</summary>
    public static Task<int> EndAsync(TenantUnitOfWork unitOfWork, Guid sessionId, CancellationToken cancellationToken) =>
        unitOfWork.Db.GetTable<RefreshTokenRow>()
            .Where(token => token.FamilyId == sessionId && token.RevokedAt == null)
            .Set(token => token.RevokedAt, () => (DateTimeOffset?)Sql.CurrentTzTimestamp)
            .UpdateAsync(cancellationToken);

    /// <summary>Revokes every session of the user except <paramref name="keep"/> (null: all of them).</summary>
    public static Task<int> EndAllAsync(TenantUnitOfWork unitOfWork, Guid userId, Guid? keep, CancellationToken cancellationToken) =>
        (keep is { } kept
            ? unitOfWork.Db.GetTable<RefreshTokenRow>().Where(token => token.UserId == userId && token.RevokedAt == null && token.FamilyId != kept)
            : unitOfWork.Db.GetTable<RefreshTokenRow>().Where(token => token.UserId == userId && token.RevokedAt == null))
            .Set(token => token.RevokedAt, () => (DateTimeOffset?)Sql.CurrentTzTimestamp)
            .UpdateAsync(cancellationToken);

    private async Task<IssuedSession> IssueAsync(
        TenantUnitOfWork unitOfWork, UserAccount user, Guid sessionId, bool mfaSatisfied, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var refreshToken = RefreshTokens.New();
        var refreshExpiresAt = now + RefreshTokens.Lifetime;
        await unitOfWork.Db.GetTable<RefreshTokenRow>().InsertAsync(() => new RefreshTokenRow
        {
            TenantId = user.TenantId,
            UserId = user.Id,
            FamilyId = sessionId,
            TokenHash = RefreshTokens.Hash(refreshToken),
            IssuedAt = now,
            ExpiresAt = refreshExpiresAt,
            MfaSatisfied = mfaSatisfied,
        }, cancellationToken);
        var tokens = await accessTokens.GetAsync(cancellationToken);
        var accessToken = tokens.Issue(user.ToCaller(sessionId, mfaSatisfied));
        return new IssuedSession(accessToken, now + accessTokens.Lifetime, refreshToken, refreshExpiresAt, mfaSatisfied);
    }

    private sealed record StoredRefreshToken(Guid UserId, Guid FamilyId, DateTime ExpiresAt, bool Revoked, bool Rotated, bool MfaSatisfied);
}
