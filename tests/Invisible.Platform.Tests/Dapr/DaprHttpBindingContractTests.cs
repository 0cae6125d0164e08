using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dapr.Client;
using Dapr.Client.Autogen.Grpc.v1;
using Invisible.Platform.Dapr;
using Invisible.Testing.QuickBooks;
using Microsoft.Extensions.DependencyInjection;

namespace Invisible.Platform.Tests.Dapr;

/// <summary>
/// The <c>quickbooks</c> HTTP output binding as the QuickBooks client uses it in dapr mode: requests through the Dapr SDK
/// to the stand-in sidecar's bindings.http, which forwards them to the stand-in QuickBooks Online; statuses, headers
/// (Retry-After) and Fault bodies come back as an HTTP answer.
/// </summary>
public sealed class DaprHttpBindingContractTests : IAsyncLifetime
{
    private const string ProductionBase = "https://quickbooks.api.intuit.com/v3/company";
    private StandInDaprSidecar _sidecar = null!;
    private StandInQuickBooks _quickBooks = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await StandInDaprSidecar.StartAsync("sidecar-token-for-tests");
        _quickBooks = await StandInQuickBooks.StartAsync();
        _sidecar.QuickBooksUrl = new Uri(_quickBooks.BaseUrl + "/v3/company");
        _services = DaprTestServices.For(_sidecar);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _quickBooks.DisposeAsync();
        await _sidecar.DisposeAsync();
    }

    [Fact]
    public async Task A_query_goes_through_the_binding_as_a_get_with_its_path_and_headers_and_comes_back_as_the_answer()
    {
        var (http, realm) = await ClientForCompanyAsync();

        using var answer = await http.GetAsync(new Uri($"{ProductionBase}/{realm}/query?query={Uri.EscapeDataString("select * from Account")}&minorversion=75"), TestTimeout.Token);
        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync(TestTimeout.Token))!;

        var call = Assert.Single(_sidecar.CallsOf<InvokeBindingRequest>());
        Assert.Equal(
            (HttpStatusCode.OK, "Office Expenses", "quickbooks", "get", $"/{realm}/query?query=select%20%2A%20from%20Account&minorversion=75", true),
            (answer.StatusCode, body["QueryResponse"]!["Account"]![0]!["Name"]!.GetValue<string>(), call.Name, call.Operation, call.Metadata["path"],
             call.Metadata["Authorization"].StartsWith("Bearer ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_throttled_answer_keeps_its_status_its_Retry_After_and_its_Fault_body()
    {
        var (http, realm) = await ClientForCompanyAsync();
        _quickBooks.Throttle(1);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"{ProductionBase}/{realm}/vendor?requestid=r-1"))
        {
            Content = new StringContent("""{"DisplayName":"Acme"}""", Encoding.UTF8, "application/json"),
        };
        using var throttled = await http.SendAsync(request, TestTimeout.Token);
        var fault = JsonNode.Parse(await throttled.Content.ReadAsStringAsync(TestTimeout.Token))!;

        Assert.Equal(
            (HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(1), "003001"),
            (throttled.StatusCode, throttled.Headers.RetryAfter?.Delta, fault["Fault"]!["Error"]![0]!["code"]!.GetValue<string>()));
    }

    private async Task<(HttpClient Http, string Realm)> ClientForCompanyAsync()
    {
        var realm = "9130" + Random.Shared.NextInt64(100_000_000, 999_999_999);
        var refreshToken = _quickBooks.NewCompany(realm);
        using var tokens = new HttpClient();
        using var grant = new HttpRequestMessage(HttpMethod.Post, new Uri(_quickBooks.BaseUrl + "/oauth2/v1/tokens/bearer"))
        {
            Content = new FormUrlEncodedContent([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)]),
        };
        grant.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{StandInQuickBooks.ClientId}:{StandInQuickBooks.ClientSecret}")));
        using var granted = await tokens.SendAsync(grant, TestTimeout.Token);
        var accessToken = JsonNode.Parse(await granted.Content.ReadAsStringAsync(TestTimeout.Token))!["access_token"]!.GetValue<string>();

        var http = new HttpClient(new DaprHttpBindingHandler(_services.GetRequiredService<DaprClient>(), DaprComponents.QuickBooks, new Uri(ProductionBase)));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return (http, realm);
    }
}
