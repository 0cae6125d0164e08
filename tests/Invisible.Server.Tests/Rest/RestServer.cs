using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Invisible.Server.Accounts;
using Invisible.Server.Tests.Accounts;
using Invisible.Testing;

namespace Invisible.Server.Tests.Rest;

/// <summary>
/// The real product (as <see cref="AccountsServer"/>) with a tiny built web app, so a wrong REST path can be told apart from
/// the web app's deep-link fallback, and a plain <see cref="HttpClient"/> on its main port as an integrator's curl.
/// </summary>
public sealed class RestServer : IAsyncLifetime
{
    private readonly TemporaryDirectory _spa = new("invisible-rest-spa-");

    public RestServer() => Accounts = new WithWebApp(_spa.Path);

    public AccountsServer Accounts { get; }

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_spa.Path, "index.html"), "<!doctype html><title>Invisible</title><app-root></app-root>");
        await Accounts.InitializeAsync();
        Http = new HttpClient { BaseAddress = new Uri(Accounts.Server.Endpoints.Http) };
    }

    /// <summary>A key of the tenant as <c>invisible api-key create --tenant SLUG --name NAME --role ROLE</c> makes it.</summary>
    public async Task<string> ApiKeyAsync(TestTenant tenant, string role) =>
        (await LocalOperator.CreateApiKeyAsync(Accounts.Server.Services, tenant.Slug, "rest " + role, role, expiresAt: null, CancellationToken.None)).Key;

    /// <summary>One call as curl makes it: the method, the path with its query, the key (if any) and a JSON body (if any).</summary>
    public async Task<RestReply> SendAsync(HttpMethod method, string pathAndQuery, string? apiKey, string? jsonBody = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (jsonBody is not null)
        {
            request.Content = new StringContent(jsonBody, Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new RestReply(method, pathAndQuery, response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
    }

    public Task<RestReply> GetAsync(string pathAndQuery, string? apiKey) => SendAsync(HttpMethod.Get, pathAndQuery, apiKey);

    public Task<RestReply> PostAsync(string pathAndQuery, string? apiKey, string jsonBody) => SendAsync(HttpMethod.Post, pathAndQuery, apiKey, jsonBody);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Accounts.DisposeAsync();
        _spa.Dispose();
    }

    private sealed class WithWebApp(string spaRoot) : AccountsServer
    {
        protected override IEnumerable<string> Settings => [.. base.Settings, $"--Server:SpaRoot={spaRoot}"];
    }
}

/// <summary>What came back: the HTTP status, the media type and the body (parsed as JSON on demand).</summary>
public sealed record RestReply(HttpMethod Method, string Path, HttpStatusCode Status, string? MediaType, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    /// <summary>The <c>google.rpc.ErrorInfo</c> reason of an error body (<c>details[].reason</c>), or null.</summary>
    public string? Reason => Details("type.googleapis.com/google.rpc.ErrorInfo").Select(detail => detail.GetProperty("reason").GetString()).FirstOrDefault();

    /// <summary>The <c>details</c> of a <c>google.rpc.Status</c> body of one <c>@type</c>.</summary>
    public IEnumerable<JsonElement> Details(string type) =>
        MediaType == "application/json" && Json.TryGetProperty("details", out var details)
            ? details.EnumerateArray().Where(detail => detail.GetProperty("@type").GetString() == type).ToList()
            : [];

    public override string ToString() => $"{Method} {Path}: {(int)Status} {MediaType} {(Body.Length > 300 ? Body[..300] + "…" : Body)}";
}

[CollectionDefinition(Name)]
public sealed class RestCollection : ICollectionFixture<RestServer>
{
    public const string Name = "rest";
}
