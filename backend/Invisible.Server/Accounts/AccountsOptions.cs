namespace Invisible.Server.Accounts;

/// <summary>Settings of sign-in and sessions, section <c>Auth</c>. The defaults are the product's policy; tests and operators tune them.</summary>
public sealed class AccountsOptions
{
    public const string Section = "Auth";

    /// <summary>The issuer shown in authenticator apps next to the account.</summary>
    public string TotpIssuer { get; set; } = "Invisible";

    /// <summary>Calls per minute to sign-in, MFA and refresh, per source address and per account (ASP.NET Core's rate limiter).</summary>
    public int RateLimitPerMinute { get; set; } = 30;

    /// <summary>Failed sign-ins per account (e-mail address) within <see cref="FailureWindow"/> before it is locked for the back-off.</summary>
    public int AccountMaxFailures { get; set; } = 10;

    /// <summary>Failed sign-ins per source address, over all accounts, before the address is locked for the back-off.</summary>
    public int AddressMaxFailures { get; set; } = 100;

    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan BackOff { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan MaxBackOff { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan InvitationLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long the link of "Forgot password?" sets a password (once).</summary>
    public TimeSpan PasswordResetLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Password reset requests per e-mail address within <see cref="PasswordResetRequestWindow"/>, whether or not it has an account.</summary>
    public int PasswordResetRequestsPerAddress { get; set; } = 3;

    /// <summary>Password reset requests per network (IPv4 /24, IPv6 /64) within <see cref="PasswordResetRequestWindow"/>, over all addresses.</summary>
    public int PasswordResetRequestsPerNetwork { get; set; } = 20;

    public TimeSpan PasswordResetRequestWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How often a long-lived call (a <c>Watch</c> stream) checks that its caller may still call: the session still live, the
    /// user enabled, the role unchanged, the API key not revoked. It also ends when the access token it started with expires.
    /// </summary>
    public TimeSpan StreamSessionCheckInterval { get; set; } = TimeSpan.FromSeconds(60);
}
