using System.ComponentModel.DataAnnotations;

namespace Invisible.Server.QuickBooks;

/// <summary>
/// <c>QuickBooks</c> settings: Intuit's endpoints (production by default, the sandbox with <see cref="Sandbox"/>, or any
/// other base such as a test stand-in), the app's OAuth client (else the secret store's <c>quickbooks-client-id</c> /
/// <c>quickbooks-client-secret</c>) and the webhook verifier token (else the secret <c>quickbooks-webhook-verifier-token</c>).
/// </summary>
public sealed class QuickBooksOptions
{
    public const string Section = "QuickBooks";
    public const string ProductionApiBaseUrl = "https://quickbooks.api.intuit.com/v3/company";
    public const string SandboxApiBaseUrl = "https://sandbox-quickbooks.api.intuit.com/v3/company";
    public const string Scope = "com.intuit.quickbooks.accounting";

    /// <summary>Use Intuit's sandbox companies (when <see cref="ApiBaseUrl"/> is not set).</summary>
    public bool Sandbox { get; set; }

    /// <summary>Up to and including <c>/v3/company</c>; the realm id follows.</summary>
    public string? ApiBaseUrl { get; set; }

    public string TokenUrl { get; set; } = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer";

    public string AuthorizeUrl { get; set; } = "https://appcenter.intuit.com/connect/oauth2";

    public string RevokeUrl { get; set; } = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke";

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string? WebhookVerifierToken { get; set; }

    /// <summary>Where Intuit sends the browser back after consent: the product's public address + <c>/quickbooks/callback</c>. Empty: derived from the request that started the connection.</summary>
    public string? RedirectUri { get; set; }

    /// <summary>The Accounting API minor version sent with every call.</summary>
    public int MinorVersion { get; set; } = 75;

    /// <summary>How often the change-data-capture query asks each connected company what changed (the webhook's safety net).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ChangeCaptureInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How many throttled answers (HTTP 429) one call waits out before it gives up for now.</summary>
    [Range(0, 20)]
    public int MaxThrottleRetries { get; set; } = 6;

    /// <summary>The longest wait for one Retry-After.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    public string EffectiveApiBaseUrl => (string.IsNullOrWhiteSpace(ApiBaseUrl) ? Sandbox ? SandboxApiBaseUrl : ProductionApiBaseUrl : ApiBaseUrl).TrimEnd('/');

    /// <summary>Where a user opens a Bill in QuickBooks' web app.</summary>
    public string AppBaseUrl => Sandbox ? "https://app.sandbox.qbo.intuit.com/app" : "https://app.qbo.intuit.com/app";
}
