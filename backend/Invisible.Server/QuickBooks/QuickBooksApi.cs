using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Invisible.Platform.Secrets;
using Microsoft.Extensions.Options;

namespace Invisible.Server.QuickBooks;

/// <summary>QuickBooks answered with a <c>Fault</c>: its type (ValidationFault, AuthorizationFault, ...), code and texts.</summary>
public sealed class QuickBooksFaultException(int httpStatus, string type, string code, string message, string detail)
    : Exception($"QuickBooks {type} {code}: {message}{(detail.Length > 0 ? " — " + detail : "")}")
{
    public int HttpStatus { get; } = httpStatus;

    public string FaultType { get; } = type;

    public string Code { get; } = code;

    public string Detail { get; } = detail;

    /// <summary>The access token was refused: refresh it and try once more.</summary>
    public bool IsAuthentication => HttpStatus == 401;

    /// <summary>Worth trying the same request again later (throttled, or Intuit's side failing).</summary>
    public bool IsTransient => HttpStatus is 429 or >= 500;
}

/// <summary>The token endpoint refused the grant (<c>invalid_grant</c>: the refresh token was revoked, expired or already used).</summary>
public sealed class QuickBooksGrantRefusedException(string error)
    : Exception($"QuickBooks refused the grant ({error}); connect the company again.")
{
    public string Error { get; } = error;
}

public sealed record QuickBooksTokens(string AccessToken, DateTimeOffset AccessTokenExpiresAt, string RefreshToken);

/// <summary>The app's OAuth client and webhook verifier: configuration first, else the secret store.</summary>
public sealed class QuickBooksCredentials(IOptions<QuickBooksOptions> options, ISecretStore secrets)
{
    public const string VerifierTokenSecret = "quickbooks-webhook-verifier-token";

    public async Task<(string ClientId, string ClientSecret)> ClientAsync(CancellationToken cancellationToken) =>
        (await ValueAsync(options.Value.ClientId, SecretNames.QuickBooksClientId, cancellationToken),
         await ValueAsync(options.Value.ClientSecret, SecretNames.QuickBooksClientSecret, cancellationToken));

    public Task<string> VerifierTokenAsync(CancellationToken cancellationToken) =>
        ValueAsync(options.Value.WebhookVerifierToken, VerifierTokenSecret, cancellationToken);

    private async Task<string> ValueAsync(string? configured, string secretName, CancellationToken cancellationToken) =>
        !string.IsNullOrWhiteSpace(configured) ? configured : await secrets.GetSecretAsync(secretName, cancellationToken);
}

/// <summary>Intuit's OAuth 2.0 endpoints: authorization code and refresh-token grants (each refresh returns a new refresh token), revocation.</summary>
public sealed class QuickBooksOAuth(HttpClient http, QuickBooksCredentials credentials, IOptions<QuickBooksOptions> options, TimeProvider time)
{
    public async Task<string> AuthorizeUrlAsync(string state, string redirectUri, CancellationToken cancellationToken)
    {
        var (clientId, _) = await credentials.ClientAsync(cancellationToken);
        return $"{options.Value.AuthorizeUrl}?client_id={Uri.EscapeDataString(clientId)}&response_type=code" +
               $"&scope={Uri.EscapeDataString(QuickBooksOptions.Scope)}&redirect_uri={Uri.EscapeDataString(redirectUri)}&state={Uri.EscapeDataString(state)}";
    }

    public Task<QuickBooksTokens> ExchangeCodeAsync(string code, string redirectUri, CancellationToken cancellationToken) =>
        GrantAsync([new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", redirectUri)], cancellationToken);

    public Task<QuickBooksTokens> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        GrantAsync([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], cancellationToken);

    public async Task RevokeAsync(string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.RevokeUrl) { Content = JsonContent.Create(new { token }) };
        request.Headers.Authorization = await BasicAsync(cancellationToken);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    private async Task<QuickBooksTokens> GrantAsync(IEnumerable<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.TokenUrl) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = await BasicAsync(cancellationToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var json = TryParse(body);
        if (!response.IsSuccessStatusCode)
        {
            var error = json?["error"]?.GetValue<string>();
            if (error is "invalid_grant" or "invalid_client" or "unauthorized_client")
            {
                throw new QuickBooksGrantRefusedException(error);
            }

            throw new HttpRequestException($"The QuickBooks token endpoint answered {(int)response.StatusCode} {error}", null, response.StatusCode);
        }

        var access = json?["access_token"]?.GetValue<string>();
        var refresh = json?["refresh_token"]?.GetValue<string>();
        if (access is null || refresh is null)
        {
            throw new HttpRequestException("The QuickBooks token endpoint's answer has no access_token or refresh_token.");
        }

        var expiresIn = json!["expires_in"]?.GetValue<int>() ?? 3600;
        return new QuickBooksTokens(access, time.GetUtcNow().AddSeconds(expiresIn), refresh);
    }

    private async Task<AuthenticationHeaderValue> BasicAsync(CancellationToken cancellationToken)
    {
        var (clientId, clientSecret) = await credentials.ClientAsync(cancellationToken);
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{clientSecret}")));
    }

    internal static JsonObject? TryParse(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

/// <summary>One changed entity from the change-data-capture query: deleted when QuickBooks says so.</summary>
public sealed record QuickBooksChange(string EntityType, string Id, bool Deleted, JsonObject Entity);

/// <summary>
/// The Accounting API v3 calls the product makes, over plain HTTPS. Throttling (HTTP 429, Intuit's per-realm limits) is
/// waited out as its Retry-After says, up to <see cref="QuickBooksOptions.MaxThrottleRetries"/> times; a <c>Fault</c>
/// becomes a <see cref="QuickBooksFaultException"/>. Tokens never reach the log.
/// </summary>
public sealed class QuickBooksApi(HttpClient http, IOptions<QuickBooksOptions> options, ILogger<QuickBooksApi> logger)
{
    /// <summary>The rows of <c>select * from Entity [where ...]</c>; empty when none.</summary>
    public async Task<IReadOnlyList<JsonObject>> QueryEntitiesAsync(QuickBooksSession session, string entity, string query, CancellationToken cancellationToken)
    {
        var json = await SendAsync(session, HttpMethod.Get, $"query?query={Uri.EscapeDataString(query)}", null, cancellationToken);
        return json["QueryResponse"]?[entity]?.AsArray().OfType<JsonObject>().ToList() ?? [];
    }

    /// <summary>Creates the entity; a repeated <paramref name="requestId"/> makes QuickBooks return what the first request created.</summary>
    public async Task<JsonObject> CreateAsync(QuickBooksSession session, string entity, JsonObject body, Guid requestId, CancellationToken cancellationToken)
    {
        var json = await SendAsync(session, HttpMethod.Post, $"{entity.ToLowerInvariant()}?requestid={requestId:N}", body, cancellationToken);
        return json[entity] as JsonObject ?? throw new HttpRequestException($"QuickBooks answered a {entity} create without the {entity}.");
    }

    /// <summary>The entity, or null when QuickBooks no longer has it (deleted: Fault 610 "Object Not Found").</summary>
    public async Task<JsonObject?> ReadAsync(QuickBooksSession session, string entity, string id, CancellationToken cancellationToken)
    {
        try
        {
            var json = await SendAsync(session, HttpMethod.Get, $"{entity.ToLowerInvariant()}/{Uri.EscapeDataString(id)}", null, cancellationToken);
            return json[entity] as JsonObject;
        }
        catch (QuickBooksFaultException fault) when (fault.Code == "610")
        {
            return null;
        }
    }

    public async Task<string?> CompanyNameAsync(QuickBooksSession session, CancellationToken cancellationToken)
    {
        var json = await SendAsync(session, HttpMethod.Get, $"companyinfo/{Uri.EscapeDataString(session.RealmId)}", null, cancellationToken);
        return json["CompanyInfo"]?["CompanyName"]?.GetValue<string>();
    }

    /// <summary>The entities of the given types changed since <paramref name="since"/> (QuickBooks keeps 30 days).</summary>
    public async Task<IReadOnlyList<QuickBooksChange>> ChangedSinceAsync(
        QuickBooksSession session, IReadOnlyList<string> entities, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var changedSince = since.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var json = await SendAsync(
            session, HttpMethod.Get, $"cdc?entities={string.Join(',', entities)}&changedSince={Uri.EscapeDataString(changedSince)}", null, cancellationToken);
        var changes = new List<QuickBooksChange>();
        foreach (var response in json["CDCResponse"]?.AsArray().SelectMany(cdc => cdc?["QueryResponse"]?.AsArray() ?? []) ?? [])
        {
            foreach (var entity in entities)
            {
                foreach (var row in response?[entity]?.AsArray().OfType<JsonObject>() ?? [])
                {
                    changes.Add(new QuickBooksChange(
                        entity, row["Id"]?.GetValue<string>() ?? "", row["status"]?.GetValue<string>() == "Deleted", row));
                }
            }
        }

        return changes;
    }

    private async Task<JsonObject> SendAsync(QuickBooksSession session, HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var url = $"{options.Value.EffectiveApiBaseUrl}/{Uri.EscapeDataString(session.RealmId)}/{path}{separator}minorversion={options.Value.MinorVersion}";
        for (var throttled = 0; ; throttled++)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session.AccessToken);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && throttled < options.Value.MaxThrottleRetries)
            {
                var wait = RetryAfter(response, throttled);
                logger.LogInformation("QuickBooks throttled realm {RealmId}; waiting {Wait} before trying again", session.RealmId, wait);
                await Task.Delay(wait, cancellationToken);
                continue;
            }

            var json = QuickBooksOAuth.TryParse(text);
            if (json?["Fault"] is JsonObject fault)
            {
                var error = fault["Error"]?.AsArray().FirstOrDefault();
                throw new QuickBooksFaultException(
                    (int)response.StatusCode,
                    fault["type"]?.GetValue<string>() ?? "Fault",
                    error?["code"]?.ToString() ?? "",
                    error?["Message"]?.GetValue<string>() ?? "",
                    error?["Detail"]?.GetValue<string>() ?? "");
            }

            if (!response.IsSuccessStatusCode || json is null)
            {
                throw new QuickBooksFaultException((int)response.StatusCode, "HTTP", ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture),
                    $"QuickBooks answered {(int)response.StatusCode} {response.ReasonPhrase}", "");
            }

            return json;
        }
    }

    // Retry-After in seconds or as a date; without one, exponential from one second.
    private TimeSpan RetryAfter(HttpResponseMessage response, int attempt)
    {
        var retryAfter = response.Headers.RetryAfter;
        var wait = retryAfter?.Delta ?? (retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : TimeSpan.FromSeconds(Math.Pow(2, attempt)));
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.Value.MaxRetryAfter ? options.Value.MaxRetryAfter : wait;
    }
}

/// <summary>A realm and a current access token for it.</summary>
public sealed record QuickBooksSession(string RealmId, string AccessToken)
{
    public override string ToString() => $"QuickBooksSession {{ RealmId = {RealmId} }}";
}
