using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Invisible.Identity.Tokens;

/// <summary>Who is calling, as carried by an access token. The tenant always comes from here, never from a request field.</summary>
/// <param name="SessionId">The refresh-token family: "log out" ends it, and with it every access token's renewal.</param>
/// <param name="SecurityStamp">Changes on password, MFA or role change, so tokens issued before are refused where checked.</param>
/// <param name="MfaSatisfied">Whether a second factor was verified in this session (in a token), or is not demanded of this caller (on a request).</param>
public sealed record Caller(Guid TenantId, Guid UserId, string Role, Guid SessionId, Guid SecurityStamp, bool MfaSatisfied)
{
    /// <summary>A person with a session, or a service account's API key (then <see cref="UserId"/> and <see cref="SessionId"/> are the key's id).</summary>
    public CallerKind Kind { get; init; } = CallerKind.User;

    /// <summary>How the audit log names the local command line, which acts as the tenant's operator.</summary>
    public const string OperatorActor = "operator (local command line)";

    /// <summary>How the audit log names this caller.</summary>
    public string AuditActor => Kind switch
    {
        CallerKind.ApiKey => $"api-key:{UserId}",
        CallerKind.Operator => OperatorActor,
        _ => $"user:{UserId}",
    };

    /// <summary>
    /// The operator of a local installation: whoever can read the data directory (owner-only) already holds every secret in
    /// it, so the command line acting in-process needs no password, like PostgreSQL's peer authentication.
    /// </summary>
    public static Caller Operator(Guid tenantId) => new(tenantId, Guid.Empty, Roles.Admin, Guid.Empty, Guid.Empty, MfaSatisfied: true) { Kind = CallerKind.Operator };
}

public enum CallerKind
{
    User,
    ApiKey,
    Operator,
}

public sealed class AccessTokenOptions
{
    public const string Section = "Auth:AccessTokens";

    public string Issuer { get; set; } = "invisible";

    public string Audience { get; set; } = "invisible-api";

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>At most a minute: enough for real clock drift, short enough not to extend a stolen token's life.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);
}

/// <param name="Caller">The validated caller; null when <paramref name="Failure"/> says why not.</param>
public sealed record AccessTokenValidation(Caller? Caller, string? Failure)
{
    public bool IsValid => Caller is not null;
}

/// <summary>Issues and validates the 15-minute JWT access tokens (HS256 only; <c>alg=none</c> and other algorithms refused).</summary>
public sealed class AccessTokens(SigningKeyRing keys, AccessTokenOptions options, TimeProvider time)
{
    public const string Algorithm = SecurityAlgorithms.HmacSha256;

    private const string TenantClaim = "tid";
    private const string RoleClaim = "role";
    private const string SessionClaim = "sid";
    private const string StampClaim = "stamp";
    private const string MethodsClaim = "amr";

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public string Issue(Caller caller)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var methods = caller.MfaSatisfied ? new[] { "pwd", "otp" } : ["pwd"];
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + options.Lifetime,
            SigningCredentials = new SigningCredentials(keys.Active.ToSecurityKey(), Algorithm),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = caller.UserId.ToString(),
                [TenantClaim] = caller.TenantId.ToString(),
                [RoleClaim] = caller.Role,
                [SessionClaim] = caller.SessionId.ToString(),
                [StampClaim] = caller.SecurityStamp.ToString(),
                [MethodsClaim] = methods,
            },
        });
    }

    public async Task<AccessTokenValidation> ValidateAsync(string? token)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return new AccessTokenValidation(null, "no access token");
        }

        var result = await Handler.ValidateTokenAsync(token, ValidationParameters(options, time, FindKey));
        if (!result.IsValid)
        {
            return new AccessTokenValidation(null, Describe(result.Exception));
        }

        return TryReadCaller(result.ClaimsIdentity, out var caller)
            ? new AccessTokenValidation(caller, null)
            : new AccessTokenValidation(null, "the token lacks required claims");
    }

    /// <summary>The key of <paramref name="kid"/> in this ring, as IdentityModel wants it; none for an unknown id.</summary>
    public IEnumerable<SecurityKey> FindKey(string? kid) => keys.Find(kid) is { } key ? [key.ToSecurityKey()] : [];

    /// <summary>
    /// What every access token is checked against, by this class and by ASP.NET Core's JwtBearer alike: HS256 only (so
    /// <c>alg=none</c> and key-confusion tricks fail), issuer, audience, a signing key found by <c>kid</c> only, and the
    /// lifetime on <paramref name="time"/> with at most <see cref="AccessTokenOptions.ClockSkew"/>.
    /// </summary>
    public static TokenValidationParameters ValidationParameters(AccessTokenOptions options, TimeProvider time, Func<string?, IEnumerable<SecurityKey>> findKey) => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = options.Audience,
        ValidAlgorithms = [Algorithm],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuerSigningKey = true,
        TryAllIssuerSigningKeys = false,
        IssuerSigningKeyResolver = (_, _, kid, _) => findKey(kid),
        ClockSkew = options.ClockSkew,
        LifetimeValidator = (notBefore, expires, _, _) => IsWithinLifetime(options, time, notBefore, expires),
    };

    /// <summary>The caller a validated token names; false when a claim is missing or malformed.</summary>
    public static bool TryReadCaller(ClaimsIdentity identity, [NotNullWhen(true)] out Caller? caller)
    {
        caller = null;
        if (!Guid.TryParse(identity.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out var user) ||
            !Guid.TryParse(identity.FindFirst(TenantClaim)?.Value, out var tenant) ||
            !Guid.TryParse(identity.FindFirst(SessionClaim)?.Value, out var session) ||
            !Guid.TryParse(identity.FindFirst(StampClaim)?.Value, out var stamp) ||
            identity.FindFirst(RoleClaim)?.Value is not { Length: > 0 } role)
        {
            return false;
        }

        var mfa = identity.FindAll(MethodsClaim).Any(claim => string.Equals(claim.Value, "otp", StringComparison.Ordinal));
        caller = new Caller(tenant, user, role, session, stamp, mfa);
        return true;
    }

    /// <summary>Why a token was refused, as a category: the messages of IdentityModel exceptions can include token contents.</summary>
    public static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException or SecurityTokenInvalidLifetimeException => "the access token has expired",
        SecurityTokenSignatureKeyNotFoundException => "the access token was signed with an unknown key",
        SecurityTokenInvalidSignatureException => "the access token's signature is invalid",
        SecurityTokenInvalidAlgorithmException => "the access token uses an algorithm that is not accepted",
        SecurityTokenInvalidIssuerException or SecurityTokenInvalidAudienceException => "the access token was not issued for this service",
        SecurityTokenMalformedException or ArgumentException => "the access token is malformed",
        null => "the access token is invalid",
        _ => string.Create(CultureInfo.InvariantCulture, $"the access token is invalid ({exception.GetType().Name})"),
    };

    private static bool IsWithinLifetime(AccessTokenOptions options, TimeProvider time, DateTime? notBefore, DateTime? expires)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return expires is { } end && now <= end + options.ClockSkew && (notBefore is not { } start || now >= start - options.ClockSkew);
    }
}
