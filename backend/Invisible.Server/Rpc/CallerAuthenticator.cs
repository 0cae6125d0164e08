using System.Security.Claims;
using Invisible.Rpc;
using Invisible.Rpc.Interception;
using Invisible.Server.Accounts;
using Microsoft.Extensions.Logging;

namespace Invisible.Server.Rpc;

/// <summary>
/// The credentials of a call: <c>authorization: Bearer &lt;access token&gt;</c> for people, <c>x-api-key</c> for service
/// accounts. Present but invalid credentials end the call with UNAUTHENTICATED; none at all leave it anonymous, and the
/// access policy decides whether that is enough.
/// </summary>
public sealed class CallerAuthenticator(
    AccessTokenService accessTokens, CallerVerification verification, RpcAccessPolicies policies, ILogger<CallerAuthenticator> logger)
    : IRpcAuthenticator
{
    public const string ApiKeyHeader = "x-api-key";
    private const string BearerPrefix = "Bearer ";

    public async ValueTask<ClaimsPrincipal?> AuthenticateAsync(RpcCallContext context, CancellationToken cancellationToken)
    {
        // Credentials sent along to sign-in, refresh or health are ignored: an expired access token must not block its own refresh.
        if (policies.Find(context.Method.FullName)?.Level == RpcAccessLevel.Anonymous)
        {
            return null;
        }

        if (context.RequestHeaders.GetValue(ApiKeyHeader) is { Length: > 0 } apiKey)
        {
            var service = await verification.AuthenticateApiKeyAsync(apiKey, cancellationToken)
                ?? throw Refused("API_KEY_INVALID", "The API key is not valid.");
            return CallerContext.ToPrincipal(service);
        }

        if (context.RequestHeaders.GetValue("authorization") is not { } authorization)
        {
            return null;
        }

        if (!authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            throw Refused("ACCESS_TOKEN_INVALID", "Send the access token as 'authorization: Bearer <token>'.");
        }

        var validation = await (await accessTokens.GetAsync(cancellationToken)).ValidateAsync(authorization[BearerPrefix.Length..].Trim());
        if (validation.Caller is not { } claimed)
        {
            logger.LogInformation("Access token refused: {Reason}", validation.Failure);
            throw Refused("ACCESS_TOKEN_INVALID", "The access token is not valid. Refresh it or sign in again.");
        }

        var caller = await verification.VerifySessionAsync(claimed, cancellationToken) ?? throw AuthErrors.SessionEnded();
        return CallerContext.ToPrincipal(caller);
    }

    private static RpcException Refused(string reason, string message) =>
        RpcException.WithReason(StatusCode.Unauthenticated, message, reason, AuthErrors.Domain);
}
