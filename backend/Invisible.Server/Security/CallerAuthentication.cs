using System.Security.Claims;
using System.Text.Encodings.Web;
using Invisible.Identity.Tokens;
using Invisible.Server.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Security;

/// <summary>
/// The two ways to call the product, as ASP.NET Core authentication schemes behind one default: <c>authorization: Bearer
/// &lt;access token&gt;</c> for people (JwtBearer) and <c>x-api-key</c> for service accounts. Both end in
/// <see cref="CallerVerification"/>, the one place that checks the session or key against the database (live session,
/// security stamp, enabled user; the role and second factor from the rows), and both give the same
/// <see cref="CallerPrincipal"/>. No credentials leave the request anonymous and the method's policy decides; invalid ones
/// are remembered (<see cref="AuthenticationFailure"/>) so the refusal can say why.
/// </summary>
public static class CallerAuthentication
{
    public const string Scheme = "caller";
    public const string ApiKeyScheme = "api-key";
    public const string ApiKeyHeader = "x-api-key";

    public static IServiceCollection AddCallerAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Bearer token or API key", options => options.ForwardDefaultSelector = http =>
                http.Request.Headers.ContainsKey(ApiKeyHeader) ? ApiKeyScheme : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, displayName: "API key", configureOptions: null);
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<AccessTokenService, IOptions<AccessTokenOptions>, TimeProvider>((jwt, accessTokens, tokenOptions, time) =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = AccessTokens.ValidationParameters(tokenOptions.Value, time, accessTokens.FindKey);
                jwt.Events = new JwtBearerEvents
                {
                    // The key ring comes from the secret store, asynchronously; read once, then the key resolver finds it loaded.
                    // A request without a bearer token (sign-in, health, API keys) has nothing to validate and waits for nothing.
                    OnMessageReceived = context => context.Request.Headers.Authorization.Count == 0
                        ? Task.CompletedTask
                        : accessTokens.GetAsync(context.HttpContext.RequestAborted),
                    OnAuthenticationFailed = context =>
                    {
                        AuthenticationFailure.Remember(context.HttpContext, AuthenticationFailure.AccessTokenInvalid, AccessTokens.Describe(context.Exception));
                        return Task.CompletedTask;
                    },
                    OnTokenValidated = VerifySessionAsync,
                };
            });
        services.AddAuthorization(AccessPolicies.AddTo);
        services.AddSingleton<IAuthorizationHandler, CallerRequirementHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, AccessRefusals>();
        return services;
    }

    private static async Task VerifySessionAsync(TokenValidatedContext context)
    {
        if (context.Principal?.Identity is not ClaimsIdentity identity || !AccessTokens.TryReadCaller(identity, out var claimed))
        {
            AuthenticationFailure.Remember(context.HttpContext, AuthenticationFailure.AccessTokenInvalid, "the token lacks required claims");
            context.Fail("The access token lacks required claims.");
            return;
        }

        var verification = context.HttpContext.RequestServices.GetRequiredService<CallerVerification>();
        if (await verification.VerifySessionAsync(claimed, context.HttpContext.RequestAborted) is not { } caller)
        {
            AuthenticationFailure.Remember(context.HttpContext, AuthenticationFailure.SessionEnded, "the session has ended");
            context.Fail("The session has ended.");
            return;
        }

        context.Principal = CallerPrincipal.Create(caller, context.SecurityToken.ValidTo is { Year: > 1 } validTo ? new DateTimeOffset(validTo, TimeSpan.Zero) : null);
    }
}

/// <summary>
/// The <c>x-api-key</c> scheme: a valid, unexpired, unrevoked key of a tenant acts with that key's role, from an address
/// the tenant's IP allowlist includes (<see cref="IpAllowlists"/>).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, CallerVerification verification, IpAllowlists allowlists)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers[CallerAuthentication.ApiKeyHeader].ToString() is not { Length: > 0 } key)
        {
            return AuthenticateResult.NoResult();
        }

        if (await verification.AuthenticateApiKeyAsync(key, Context.RequestAborted) is not { } caller)
        {
            AuthenticationFailure.Remember(Context, AuthenticationFailure.ApiKeyInvalid, "unknown, expired or revoked API key");
            return AuthenticateResult.Fail("The API key is not valid.");
        }

        if (!await allowlists.AllowsApiKeyCallAsync(caller.TenantId, Context.Connection.RemoteIpAddress, caller.AuditActor, Context.TraceIdentifier, Context.RequestAborted))
        {
            AuthenticationFailure.Remember(Context, AuthenticationFailure.AddressNotAllowed, "the address is outside the tenant's IP allowlist");
            return AuthenticateResult.Fail("The API key may not be used from this address.");
        }

        return AuthenticateResult.Success(new AuthenticationTicket(CallerPrincipal.Create(caller), Scheme.Name));
    }
}

/// <summary>Why the credentials of a request were refused, kept on the request for the refusal that follows.</summary>
/// <param name="Reason">What clients branch on: ACCESS_TOKEN_INVALID, SESSION_ENDED or API_KEY_INVALID.</param>
/// <param name="Detail">A category for the log, never the token.</param>
public sealed record AuthenticationFailure(string Reason, string Detail)
{
    public const string AccessTokenInvalid = "ACCESS_TOKEN_INVALID";
    public const string SessionEnded = "SESSION_ENDED";
    public const string ApiKeyInvalid = "API_KEY_INVALID";
    public const string AddressNotAllowed = "ADDRESS_NOT_ALLOWED";

    public static void Remember(HttpContext http, string reason, string detail) => http.Features.Set(new AuthenticationFailure(reason, detail));

    public static AuthenticationFailure? Of(HttpContext http) => http.Features.Get<AuthenticationFailure>();

    /// <summary>What the caller is told.</summary>
    public string Message => Reason switch
    {
        SessionEnded => "The session has ended. Sign in again.",
        ApiKeyInvalid => "The API key is not valid.",
        AddressNotAllowed => "Your organisation does not allow access from this network.",
        _ => "The access token is not valid. Refresh it or sign in again.",
    };
}
