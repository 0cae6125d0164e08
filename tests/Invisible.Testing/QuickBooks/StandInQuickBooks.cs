using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Invisible.Testing.QuickBooks;

/// <summary>
/// A stand-in for QuickBooks Online, for tests only (we cannot run Intuit's service here): Kestrel on loopback speaking the
/// published Accounting API v3 and OAuth 2.0 shapes the product uses. The token endpoint rotates the refresh token on every
/// refresh and answers a used one with <c>invalid_grant</c>; <c>/v3/company/{realm}/query</c> understands
/// <c>select * from Entity [where Field = 'value']</c>; <c>vendor</c>, <c>bill</c> and <c>vendorcredit</c> are created and
/// read with <c>requestid</c> idempotency (a repeated requestid returns the first answer); errors are <c>Fault</c> bodies;
/// throttling is 429 with <c>Retry-After</c>; <c>/cdc</c> lists changed entities; webhooks are signed with
/// <c>intuit-signature</c> (base64 HMAC-SHA256 of the body under the verifier token). The authorize page redirects straight back.
/// </summary>
public sealed partial class StandInQuickBooks : IAsyncDisposable
{
    public const string ClientId = "stand-in-client-id";
    public const string ClientSecret = "stand-in-client-secret";
    public const string VerifierToken = "stand-in-verifier-token";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _refreshTokens = new(); // token -> realm
    private readonly ConcurrentDictionary<string, string> _accessTokens = new(); // token -> realm
    private readonly ConcurrentDictionary<string, string> _codes = new(); // authorization code -> realm
    private readonly Lock _gate = new();
    private int _throttleNext;
    private int _loseNextCreateAnswer;
    private int _refuseNextCreate;

    private StandInQuickBooks(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>
    /// The clock of entities' MetaData times (what <c>/cdc</c> filters on). A product under test with a hand-moved clock
    /// sets it to that clock, so "changed since" means the same instant on both sides, as it does between Intuit and a
    /// product whose clock is in sync.
    /// </summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>The company the authorize page "consents" to; null: the first.</summary>
    public string? ConsentRealm { get; set; }

    /// <summary>Companies by realm id: entities by type (Vendor, Account, Item, TaxCode, PurchaseOrder, Bill, VendorCredit) and id.</summary>
    public ConcurrentDictionary<string, Company> Companies { get; } = new();

    private int _throttledAnswers;
    private int _revokedTokens;

    public int ThrottledAnswers => Volatile.Read(ref _throttledAnswers);

    public int RevokedTokens => Volatile.Read(ref _revokedTokens);

    /// <summary>The settings that point the product at this stand-in.</summary>
    public string[] ProductSettings =>
    [
        $"--QuickBooks:ApiBaseUrl={BaseUrl}/v3/company",
        $"--QuickBooks:TokenUrl={BaseUrl}/oauth2/v1/tokens/bearer",
        $"--QuickBooks:AuthorizeUrl={BaseUrl}/connect/oauth2",
        $"--QuickBooks:RevokeUrl={BaseUrl}/oauth2/v1/tokens/revoke",
        $"--QuickBooks:ClientId={ClientId}",
        $"--QuickBooks:ClientSecret={ClientSecret}",
        $"--QuickBooks:WebhookVerifierToken={VerifierToken}",
        "--QuickBooks:ChangeCaptureInterval=01:00:00",
    ];

    /// <summary>The same settings as environment variables of an <c>invisible</c> process.</summary>
    public IReadOnlyDictionary<string, string> ProductEnvironment => ProductSettings
        .Select(setting => setting[2..].Split('=', 2))
        .ToDictionary(pair => "INVISIBLE_" + pair[0].Replace(":", "__", StringComparison.Ordinal), pair => pair[1], StringComparer.Ordinal);

    public static async Task<StandInQuickBooks> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var standIn = new StandInQuickBooks(app);
        standIn.Map(app);
        await app.StartAsync();
        standIn.BaseUrl = app.Urls.First().TrimEnd('/');
        return standIn;
    }

    /// <summary>A company with an expense account, and the refresh token an operator would paste into <c>quickbooks connect</c>.</summary>
    public string NewCompany(string realmId, string companyName = "Stand-in Books Ltd")
    {
        var company = new Company(companyName, () => Clock.GetUtcNow());
        company.Add("Account", new JsonObject { ["Name"] = "Office Expenses", ["AccountType"] = "Expense" });
        Companies[realmId] = company;
        return IssueRefreshToken(realmId);
    }

    public string IssueRefreshToken(string realmId)
    {
        var token = "RT-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        _refreshTokens[token] = realmId;
        return token;
    }

    /// <summary>Forgets every token issued for the realm, as when the user revokes the app's access in QuickBooks.</summary>
    public void RevokeAllTokensOf(string realmId)
    {
        foreach (var token in _refreshTokens.Where(pair => pair.Value == realmId).Select(pair => pair.Key).ToList())
        {
            _refreshTokens.TryRemove(token, out _);
        }

        foreach (var token in _accessTokens.Where(pair => pair.Value == realmId).Select(pair => pair.Key).ToList())
        {
            _accessTokens.TryRemove(token, out _);
        }
    }

    /// <summary>The next <paramref name="answers"/> API calls are answered 429 with Retry-After.</summary>
    public void Throttle(int answers) => Interlocked.Exchange(ref _throttleNext, answers);

    /// <summary>The next create is refused with a business-validation Fault (as when a closed period or an inactive account refuses a Bill).</summary>
    public void RefuseNextCreate() => Interlocked.Exchange(ref _refuseNextCreate, 1);

    /// <summary>The next create is carried out and its answer lost (the connection dropped), as when the product crashes before storing the id.</summary>
    public void LoseNextCreateAnswer() => Interlocked.Exchange(ref _loseNextCreateAnswer, 1);

    public IReadOnlyList<JsonObject> Entities(string realmId, string type) => Companies[realmId].All(type);

    /// <summary>Changes a Bill as a bookkeeper would in QuickBooks (new SyncToken and LastUpdatedTime).</summary>
    public void EditBill(string realmId, string billId, Action<JsonObject> edit)
    {
        var bill = Companies[realmId].Find("Bill", billId) ?? throw new InvalidOperationException($"No Bill {billId}");
        lock (_gate)
        {
            edit(bill);
            bill["SyncToken"] = (int.Parse(bill["SyncToken"]!.GetValue<string>(), CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
            Companies[realmId].Touch(bill);
        }
    }

    /// <summary>The webhook notification QuickBooks sends after a change, and its signature under <paramref name="verifierToken"/>.</summary>
    public static (string Body, string Signature) WebhookNotification(string realmId, string entity, string id, string operation, string verifierToken = VerifierToken)
    {
        var body = new JsonObject
        {
            ["eventNotifications"] = new JsonArray(new JsonObject
            {
                ["realmId"] = realmId,
                ["dataChangeEvent"] = new JsonObject
                {
                    ["entities"] = new JsonArray(new JsonObject
                    {
                        ["name"] = entity, ["id"] = id, ["operation"] = operation,
                        ["lastUpdated"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                    }),
                },
            }),
        }.ToJsonString();
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(verifierToken), Encoding.UTF8.GetBytes(body)));
        return (body, signature);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private void Map(WebApplication app)
    {
        app.MapGet("/connect/oauth2", (HttpRequest request) =>
        {
            // The stand-in's authorize page: the user "consents" at once and is sent back with a code for the chosen company.
            var realm = ConsentRealm ?? Companies.Keys.Order(StringComparer.Ordinal).First();
            var code = "AC-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
            _codes[code] = realm;
            var redirect = $"{request.Query["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(request.Query["state"].ToString())}&realmId={realm}";
            return Results.Redirect(redirect);
        });
        app.MapPost("/oauth2/v1/tokens/bearer", async (HttpRequest request) =>
        {
            if (!ClientAuthenticated(request))
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            }

            var form = await request.ReadFormAsync();
            string? realm = null;
            var granted = form["grant_type"].ToString() switch
            {
                "refresh_token" => _refreshTokens.TryRemove(form["refresh_token"].ToString(), out realm),
                "authorization_code" => _codes.TryRemove(form["code"].ToString(), out realm),
                _ => false,
            };
            if (!granted || realm is null)
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }

            var access = "AT-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            _accessTokens[access] = realm;
            return Results.Json(new Dictionary<string, object>
            {
                ["token_type"] = "bearer",
                ["access_token"] = access,
                ["expires_in"] = 3600,
                ["refresh_token"] = IssueRefreshToken(realm),
                ["x_refresh_token_expires_in"] = 8726400,
            });
        });
        app.MapPost("/oauth2/v1/tokens/revoke", async (HttpRequest request) =>
        {
            if (!ClientAuthenticated(request))
            {
                return Results.StatusCode(401);
            }

            var token = (await JsonNode.ParseAsync(request.Body))?["token"]?.GetValue<string>() ?? "";
            if (_refreshTokens.TryRemove(token, out _) | _accessTokens.TryRemove(token, out _))
            {
                Interlocked.Increment(ref _revokedTokens);
            }

            return Results.Ok();
        });
        app.MapGet("/v3/company/{realm}/companyinfo/{id}", (string realm, HttpRequest request) =>
            Api(realm, request, company => Results.Json(new JsonObject
            {
                ["CompanyInfo"] = new JsonObject { ["Id"] = "1", ["CompanyName"] = company.Name },
                ["time"] = Now(),
            })));
        app.MapGet("/v3/company/{realm}/query", (string realm, HttpRequest request) =>
            Api(realm, request, company => Query(company, request.Query["query"].ToString())));
        app.MapGet("/v3/company/{realm}/cdc", (string realm, HttpRequest request) =>
            Api(realm, request, company => ChangeDataCapture(company, request)));
        app.MapGet("/v3/company/{realm}/{entity}/{id}", (string realm, string entity, string id, HttpRequest request) =>
            Api(realm, request, company =>
            {
                var type = EntityType(entity);
                var found = type is null ? null : company.Find(type, id);
                return found is null || found["status"]?.GetValue<string>() == "Deleted"
                    ? FaultResult(400, "ValidationFault", "610", "Object Not Found", $"Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. {entity} {id}")
                    : Results.Json(new JsonObject { [type!] = found.DeepClone(), ["time"] = Now() });
            }));
        app.MapPost("/v3/company/{realm}/{entity}", (string realm, string entity, HttpContext context) =>
            Api(realm, context.Request, company => CreateAsync(company, entity, context)));
    }

    private static bool ClientAuthenticated(HttpRequest request) =>
        request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"));

    private async Task<IResult> Api(string realm, HttpRequest request, Func<Company, Task<IResult>> answer)
    {
        var bearer = request.Headers.Authorization.ToString();
        if (!bearer.StartsWith("Bearer ", StringComparison.Ordinal) || !_accessTokens.TryGetValue(bearer["Bearer ".Length..], out var tokenRealm) || tokenRealm != realm)
        {
            return FaultResult(401, "AUTHENTICATION", "3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401", "Token invalid");
        }

        if (Interlocked.Decrement(ref _throttleNext) >= 0)
        {
            Interlocked.Increment(ref _throttledAnswers);
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return FaultResult(429, "SERVICE", "003001", "ThrottleExceeded", "Throttle exceeded: the request rate limit of the realm was reached");
        }

        Interlocked.Exchange(ref _throttleNext, 0);
        return Companies.TryGetValue(realm, out var company)
            ? await answer(company)
            : FaultResult(403, "AuthorizationFault", "3100", "ApplicationAuthorizationFailed", "No such company");
    }

    private Task<IResult> Api(string realm, HttpRequest request, Func<Company, IResult> answer) =>
        Api(realm, request, company => Task.FromResult(answer(company)));

    private async Task<IResult> CreateAsync(Company company, string entity, HttpContext context)
    {
        var type = EntityType(entity);
        if (type is null)
        {
            return FaultResult(400, "ValidationFault", "2010", "Unsupported Operation", $"Operation Create is not supported for {entity}");
        }

        var requestId = context.Request.Query["requestid"].ToString();
        var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
        (int Status, string Json) answer;
        lock (_gate)
        {
            if (requestId.Length > 0 && company.Answers.TryGetValue(requestId, out var replay))
            {
                answer = replay;
            }
            else
            {
                answer = Interlocked.Exchange(ref _refuseNextCreate, 0) == 1
                    ? (400, FaultJson("ValidationFault", "6000", "A business validation error has occurred while processing your request", "Business Validation Error: The transaction date is in a closed period."))
                    : Validate(company, type, body) is { } fault ? fault : (200, new JsonObject { [type] = company.Add(type, body!).DeepClone(), ["time"] = Now() }.ToJsonString());
                if (requestId.Length > 0)
                {
                    company.Answers[requestId] = answer;
                }
            }
        }

        if (Interlocked.Exchange(ref _loseNextCreateAnswer, 0) == 1)
        {
            context.Abort();
            return Results.Empty;
        }

        return Results.Content(answer.Json, "application/json", Encoding.UTF8, answer.Status);
    }

    private static (int, string)? Validate(Company company, string type, JsonObject? body)
    {
        if (body is null)
        {
            return (400, FaultJson("ValidationFault", "2020", "Required param missing, need to supply the required value for the API", "Request body"));
        }

        if (type == "Vendor")
        {
            var name = body["DisplayName"]?.GetValue<string>();
            return string.IsNullOrWhiteSpace(name)
                ? (400, FaultJson("ValidationFault", "2020", "Required param missing, need to supply the required value for the API", "Required parameter DisplayName is missing in the request"))
                : company.All("Vendor").Any(v => v["DisplayName"]?.GetValue<string>() == name)
                    ? (400, FaultJson("ValidationFault", "6240", "Duplicate Name Exists Error", $"The name supplied already exists. : {name}"))
                    : null;
        }

        var vendorId = body["VendorRef"]?["value"]?.GetValue<string>();
        if (vendorId is null || company.Find("Vendor", vendorId) is null)
        {
            return (400, FaultJson("ValidationFault", "2500", "Invalid Reference Id", $"Invalid Reference Id : Vendor assigned to this transaction has been deleted. {vendorId}"));
        }

        foreach (var line in body["Line"]?.AsArray() ?? [])
        {
            var detailType = line?["DetailType"]?.GetValue<string>();
            var detail = detailType is null ? null : line?[detailType];
            var (refType, refId) = detailType == "ItemBasedExpenseLineDetail"
                ? ("Item", detail?["ItemRef"]?["value"]?.GetValue<string>())
                : ("Account", detail?["AccountRef"]?["value"]?.GetValue<string>());
            if (refId is null || company.Find(refType, refId) is null)
            {
                return (400, FaultJson("ValidationFault", "2500", "Invalid Reference Id", $"Invalid Reference Id : {refType}s element id {refId} not found"));
            }

            if (detail?["TaxCodeRef"]?["value"]?.GetValue<string>() is { } taxCode && company.Find("TaxCode", taxCode) is null)
            {
                return (400, FaultJson("ValidationFault", "2500", "Invalid Reference Id", $"Invalid Reference Id : TaxCode element id {taxCode} not found"));
            }
        }

        return null;
    }

    private static IResult Query(Company company, string query)
    {
        var match = QueryPattern().Match(query);
        if (!match.Success)
        {
            return FaultResult(400, "ValidationFault", "4000", "Error parsing query", $"QueryParserError: Encountered an unsupported query: {query}");
        }

        var type = match.Groups["entity"].Value;
        var rows = company.All(type).Where(row => row["status"]?.GetValue<string>() != "Deleted");
        if (match.Groups["field"].Success)
        {
            var value = match.Groups["value"].Value.Replace(@"\'", "'", StringComparison.Ordinal);
            rows = rows.Where(row => string.Equals(row[match.Groups["field"].Value]?.ToString(), value, StringComparison.OrdinalIgnoreCase));
        }

        var list = rows.Select(row => (JsonNode)row.DeepClone()).ToArray();
        var response = new JsonObject { ["startPosition"] = 1, ["maxResults"] = list.Length };
        if (list.Length > 0)
        {
            response[type] = new JsonArray(list);
        }

        return Results.Json(new JsonObject { ["QueryResponse"] = response, ["time"] = Now() });
    }

    private static IResult ChangeDataCapture(Company company, HttpRequest request)
    {
        var since = DateTimeOffset.Parse(request.Query["changedSince"].ToString(), CultureInfo.InvariantCulture);
        var responses = new JsonArray();
        foreach (var type in request.Query["entities"].ToString().Split(','))
        {
            var changed = company.All(type)
                .Where(row => DateTimeOffset.Parse(row["MetaData"]!["LastUpdatedTime"]!.GetValue<string>(), CultureInfo.InvariantCulture) >= since)
                .Select(row => (JsonNode)row.DeepClone()).ToArray();
            var response = new JsonObject { ["startPosition"] = 1, ["maxResults"] = changed.Length };
            if (changed.Length > 0)
            {
                response[type] = new JsonArray(changed);
            }

            responses.Add(response);
        }

        return Results.Json(new JsonObject { ["CDCResponse"] = new JsonArray(new JsonObject { ["QueryResponse"] = responses }), ["time"] = Now() });
    }

    private static string? EntityType(string path) => path.ToLowerInvariant() switch
    {
        "vendor" => "Vendor",
        "bill" => "Bill",
        "vendorcredit" => "VendorCredit",
        "purchaseorder" => "PurchaseOrder",
        "account" => "Account",
        "item" => "Item",
        "taxcode" => "TaxCode",
        _ => null,
    };

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);



    private static string FaultJson(string type, string code, string message, string detail) => new JsonObject
    {
        ["Fault"] = new JsonObject
        {
            ["Error"] = new JsonArray(new JsonObject { ["Message"] = message, ["Detail"] = detail, ["code"] = code }),
            ["type"] = type,
        },
        ["time"] = Now(),
    }.ToJsonString();

    private static IResult FaultResult(int status, string type, string code, string message, string detail) =>
        Results.Content(FaultJson(type, code, message, detail), "application/json", Encoding.UTF8, status);

    [GeneratedRegex(@"^\s*select \* from (?<entity>\w+)(?: where (?<field>\w+) = '(?<value>(?:[^'\\]|\\.)*)')?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex QueryPattern();

    /// <summary>One QuickBooks company: its entities and the answers given per requestid.</summary>
    public sealed class Company(string name, Func<DateTimeOffset> now)
    {
        private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, JsonObject>> _entities = new();
        private int _nextId;

        public string Name { get; } = name;

        public Dictionary<string, (int Status, string Json)> Answers { get; } = new(StringComparer.Ordinal);

        public JsonObject Add(string type, JsonObject entity)
        {
            var copy = (JsonObject)entity.DeepClone();
            var id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
            copy["Id"] = id;
            copy["SyncToken"] = "0";
            Touch(copy);
            if (type is "Bill" or "VendorCredit" && copy["TotalAmt"] is null)
            {
                copy["TotalAmt"] = (copy["Line"]?.AsArray() ?? []).Sum(line => line?["Amount"]?.GetValue<decimal>() ?? 0m);
            }

            _entities.GetOrAdd(type, _ => new())[id] = copy;
            return copy;
        }

        public JsonObject? Find(string type, string id) =>
            _entities.TryGetValue(type, out var rows) && rows.TryGetValue(id, out var row) ? row : null;

        public IReadOnlyList<JsonObject> All(string type) =>
            _entities.TryGetValue(type, out var rows) ? rows.Values.OrderBy(row => int.Parse(row["Id"]!.GetValue<string>(), CultureInfo.InvariantCulture)).ToList() : [];

        /// <summary>Stamps MetaData as QuickBooks does on every create and change (by the stand-in's <see cref="StandInQuickBooks.Clock"/>).</summary>
        internal void Touch(JsonObject row)
        {
            var stamp = now().ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
            row["MetaData"] = new JsonObject
            {
                ["CreateTime"] = row["MetaData"]?["CreateTime"]?.GetValue<string>() ?? stamp,
                ["LastUpdatedTime"] = stamp,
            };
        }

        /// <summary>Marks an entity deleted as QuickBooks does (<c>status: Deleted</c> in the change feed).</summary>
        public void Delete(string type, string id)
        {
            var row = Find(type, id) ?? throw new InvalidOperationException($"No {type} {id}");
            row["status"] = "Deleted";
            Touch(row);
        }
    }
}
