using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Invisible.Testing.QuickBooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Starts the stand-in QuickBooks Online server with one company (an expense account, and a Vendor per --vendor name so
// the product finds it by display name), prints one JSON line on stdout and serves until stopped (SIGTERM or Ctrl+C):
//   {"standInUrl": ..., "inspectUrl": ..., "realm": ..., "refreshToken": ..., "productEnvironment": {...}}
// productEnvironment points an `invisible` process at the stand-in; refreshToken is what `invisible quickbooks connect`
// reads on stdin. The stand-in keeps its state in memory, so the test asks this process what it holds over HTTP:
// GET {inspectUrl}/companies/{realm}/{Entity} answers the entities of that type (e.g. Bill) as a JSON array.
var realm = "9130355377241111";
var vendors = new List<string>();
for (var index = 0; index + 1 < args.Length; index += 2)
{
    switch (args[index])
    {
        case "--realm":
            realm = args[index + 1];
            break;
        case "--vendor":
            vendors.Add(args[index + 1]);
            break;
        default:
            Console.Error.WriteLine($"Unknown option {args[index]}. Usage: [--realm REALM_ID] [--vendor DISPLAY_NAME]...");
            return 2;
    }
}

await using var standIn = await StandInQuickBooks.StartAsync();
var refreshToken = standIn.NewCompany(realm, "Stand-in Books Ltd");
foreach (var vendor in vendors)
{
    standIn.Companies[realm].Add("Vendor", new JsonObject { ["DisplayName"] = vendor });
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
await using var inspect = builder.Build();
inspect.MapGet("/companies/{realmId}/{entity}", (string realmId, string entity) =>
    standIn.Companies.ContainsKey(realmId)
        ? Results.Text(new JsonArray([.. standIn.Entities(realmId, entity).Select(item => item.DeepClone())]).ToJsonString(), "application/json")
        : Results.NotFound());
await inspect.StartAsync();

Console.WriteLine(JsonSerializer.Serialize(new
{
    standInUrl = standIn.BaseUrl,
    inspectUrl = inspect.Urls.First().TrimEnd('/'),
    realm,
    refreshToken,
    productEnvironment = standIn.ProductEnvironment,
}));
await Console.Out.FlushAsync();
await inspect.WaitForShutdownAsync();
return 0;
