using System.Globalization;
using System.Security.Claims;
using Invisible.Identity.Tokens;

namespace Invisible.Server.Security;

/// <summary>
/// The verified <see cref="Identity.Tokens.Caller"/> of a request as the <see cref="ClaimsPrincipal"/> that ASP.NET Core
/// carries on <c>HttpContext.User</c>: made by the two authentication schemes after checking the session or the API key
/// against the database, read back by <see cref="CallContextExtensions.Caller"/>. Handlers take the tenant from here,
/// never from a request field.
/// </summary>
public static class CallerPrincipal
{
    private const string AuthenticationType = "invisible-caller";
    private const string TenantClaim = "tid";
    private const string SessionClaim = "sid";
    private const string StampClaim = "stamp";
    private const string MfaClaim = "mfa";
    private const string KindClaim = "kind";
    private const string ExpiresClaim = "exp";

    /// <param name="expiresAt">When the credentials stop being valid (an access token's expiry); null for API keys.</param>
    public static ClaimsPrincipal Create(Caller caller, DateTimeOffset? expiresAt = null) =>
        new(new ClaimsIdentity(
            [
                .. expiresAt is { } expiry ? [new Claim(ExpiresClaim, expiry.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))] : Array.Empty<Claim>(),
                new Claim(ClaimTypes.NameIdentifier, caller.UserId.ToString()),
                new Claim(TenantClaim, caller.TenantId.ToString()),
                new Claim(ClaimTypes.Role, caller.Role),
                new Claim(SessionClaim, caller.SessionId.ToString()),
                new Claim(StampClaim, caller.SecurityStamp.ToString()),
                new Claim(MfaClaim, caller.MfaSatisfied.ToString(CultureInfo.InvariantCulture)),
                new Claim(KindClaim, caller.Kind.ToString()),
            ],
            AuthenticationType,
            ClaimTypes.NameIdentifier,
            ClaimTypes.Role));

    public static Caller? Read(ClaimsPrincipal principal) =>
        principal.Identity is { IsAuthenticated: true, AuthenticationType: AuthenticationType } &&
        Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var user) &&
        Guid.TryParse(principal.FindFirstValue(TenantClaim), out var tenant) &&
        Guid.TryParse(principal.FindFirstValue(SessionClaim), out var session) &&
        Guid.TryParse(principal.FindFirstValue(StampClaim), out var stamp) &&
        principal.FindFirstValue(ClaimTypes.Role) is { Length: > 0 } role
            ? new Caller(tenant, user, role, session, stamp, bool.TryParse(principal.FindFirstValue(MfaClaim), out var mfa) && mfa)
            {
                Kind = Enum.TryParse<CallerKind>(principal.FindFirstValue(KindClaim), out var kind) ? kind : CallerKind.User,
            }
            : null;

    /// <summary>When the request's credentials expire; null when they do not (API keys) or for anonymous requests.</summary>
    public static DateTimeOffset? ExpiresAt(ClaimsPrincipal principal) =>
        long.TryParse(principal.FindFirstValue(ExpiresClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
