using System.Net;
using System.Text.RegularExpressions;
using Google.Api;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Rest;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Attacks;

/// <summary>
/// The attack suite over the REST/JSON routes, enumerated from the running server's endpoints (each transcoded RPC and
/// its <c>google.api.http</c> rule), so a new route is attacked without anyone listing it: no credentials, another
/// tenant's identifiers in the path, SQL and formula payloads in the path, the query and the body.
/// </summary>
[Collection(RestCollection.Name)]
public sealed partial class RestAttackTests(RestServer rest)
{
    /// <summary>A REST route: its RPC, HTTP method, path template ("/v1/exceptions/{exception_id}:approve") and body rule.</summary>
    private sealed record Route(MethodDescriptor Rpc, HttpMethod Method, string Template, string Body)
    {
        public List<string> Parameters => PathParameter().Matches(Template).Select(match => match.Groups[1].Value).ToList();

        public string Path(Func<string, string> valueOf) =>
            PathParameter().Replace(Template, match => Uri.EscapeDataString(valueOf(match.Groups[1].Value)));

        public override string ToString() => $"{Method} {Template}";
    }

    [GeneratedRegex(@"\{([a-z_]+)(=[^}]*)?\}")]
    private static partial Regex PathParameter();

    private List<Route> Routes()
    {
        var rpcs = AccessMatrixTests.AllRpcs.ToDictionary(method => method.FullName, StringComparer.Ordinal);
        return rest.Accounts.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(endpoint => (endpoint, grpc: endpoint.Metadata.GetMetadata<GrpcMethodMetadata>()))
            .Where(pair => pair.grpc is not null && !(pair.endpoint.RoutePattern.RawText ?? "").TrimStart('/').StartsWith(pair.grpc.Method.ServiceName + "/", StringComparison.Ordinal))
            .Select(pair => rpcs[pair.grpc!.Method.FullName.TrimStart('/').Replace('/', '.')])
            .Distinct()
            .Select(rpc => rpc.GetOptions()?.GetExtension(AnnotationsExtensions.Http) is { } rule ? ToRoute(rpc, rule) : null)
            .OfType<Route>()
            .ToList();
    }

    private static Route? ToRoute(MethodDescriptor rpc, HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => new Route(rpc, HttpMethod.Get, rule.Get, rule.Body),
        HttpRule.PatternOneofCase.Post => new Route(rpc, HttpMethod.Post, rule.Post, rule.Body),
        HttpRule.PatternOneofCase.Put => new Route(rpc, HttpMethod.Put, rule.Put, rule.Body),
        HttpRule.PatternOneofCase.Patch => new Route(rpc, HttpMethod.Patch, rule.Patch, rule.Body),
        HttpRule.PatternOneofCase.Delete => new Route(rpc, HttpMethod.Delete, rule.Delete, rule.Body),
        _ => null,
    };

    /// <summary>
    /// Routes a person reaches without signing in, by design: an e-mail's unsubscribe link (its signed token is the
    /// credential; NotificationTests shows a forged one refused).
    /// </summary>
    private static readonly HashSet<string> AnonymousByDesign = new(StringComparer.Ordinal) { "invisible.notifications.v1.NotificationService.Unsubscribe" };

    [Fact]
    public async Task Every_REST_route_is_refused_without_credentials_and_with_a_forged_token()
    {
        var tenant = await rest.Accounts.NewTenantAsync();
        var genuine = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var forgeries = await new ForgedTokens(rest.Accounts.Server.Services, rest.Accounts.Clock).RefusedVariantsAsync(genuine);
        var routes = Routes();
        var problems = new List<string>();

        foreach (var route in routes.Where(route => !AnonymousByDesign.Contains(route.Rpc.FullName)))
        {
            var path = route.Path(_ => Guid.NewGuid().ToString());
            var body = route.Method == HttpMethod.Get ? null : "{}";
            var anonymous = await rest.SendAsync(route.Method, path, apiKey: null, body);
            if (anonymous.Status != HttpStatusCode.Unauthorized)
            {
                problems.Add($"{route} without credentials: {anonymous}");
            }

            foreach (var (kind, token) in forgeries)
            {
                var forged = await rest.SendAsync(route.Method, path, apiKey: null, body, bearer: token);
                if (forged.Status != HttpStatusCode.Unauthorized)
                {
                    problems.Add($"{route} with a token {kind}: {forged}");
                }
            }

            var wrongKey = await rest.SendAsync(route.Method, path, apiKey: "ink_" + new string('x', 40), body);
            if (wrongKey.Status != HttpStatusCode.Unauthorized)
            {
                problems.Add($"{route} with an unknown API key: {wrongKey}");
            }
        }

        Assert.NotEmpty(routes);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task With_an_admin_key_of_one_tenant_no_REST_route_reaches_another_tenants_rows()
    {
        var world = await IsolationWorld.CreateAsync(rest.Accounts);
        var key = await rest.ApiKeyAsync(world.A, Roles.Admin);
        var idsOfB = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["invoice_id"] = world.BInvoiceId,
            ["exception_id"] = world.BExceptionId,
            ["import_id"] = world.BImportId,
            ["vendor_code"] = IsolationWorld.BVendorCode,
            ["survivor_code"] = IsolationWorld.BVendorCode,
            ["merge_id"] = world.BMergeId,
            ["user_id"] = world.BClerkId,
            ["upload_id"] = world.BUploadId,
            ["message_id"] = world.BIntakeMessageId,
            ["item_id"] = world.BToKeyItemId,
            ["po_number"] = IsolationWorld.BPoNumber,
            ["delegation_id"] = world.BDelegationId,
            ["vendor_id"] = world.BVendorId,
        };
        string[] markersOfB = [world.BInvoiceId, world.BExceptionId, world.BImportId, IsolationWorld.BVendorCode, IsolationWorld.BInvoiceNumber, world.BClerkId, world.BIntakeMessageId, world.BToKeyItemId,
                               IsolationWorld.BQuickBooksCompany, IsolationWorld.BQuickBooksBillId, world.BDelegationId, IsolationWorld.BRuleName,
                               world.BNotificationId, IsolationWorld.BNotificationSubject, IsolationWorld.BQuickBooksVendor];
        var before = await world.SnapshotOfBAsync();
        var problems = new List<string>();

        foreach (var route in Routes())
        {
            if (route.Parameters.FirstOrDefault(parameter => !idsOfB.ContainsKey(parameter)) is { } unknown)
            {
                problems.Add($"{route}: no identifier of the other tenant for {{{unknown}}}; add one to this test");
                continue;
            }

            var body = route.Method == HttpMethod.Get ? null : JsonFormatter.Default.Format(new ReasonedRequest(route.Rpc).Message);
            var reply = await rest.SendAsync(route.Method, route.Path(parameter => idsOfB[parameter]), key, body);
            // A route naming one of B's rows must not find it (the refusal may echo the id it was given); a list must not show any.
            if (route.Parameters.Count > 0 ? reply.Status != HttpStatusCode.NotFound
                : (int)reply.Status >= 500 || markersOfB.Any(marker => marker.Length > 0 && reply.Body.Contains(marker, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"{route} with the other tenant's ids: {reply}");
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(before, await world.SnapshotOfBAsync());
    }

    [Fact]
    public async Task SQL_and_formula_payloads_in_the_path_query_and_body_of_every_REST_route_are_answered_without_a_server_error()
    {
        var tenant = await rest.Accounts.NewTenantAsync();
        var key = await rest.ApiKeyAsync(tenant, Roles.Admin);
        var problems = new List<string>();

        foreach (var route in Routes())
        {
            foreach (var payload in AttackMessages.Payloads.Where(payload => payload.Length < 2000 && !payload.Contains('\0', StringComparison.Ordinal)))
            {
                var request = AttackMessages.Filled(route.Rpc, payload);
                var path = route.Path(_ => payload);
                string? body = null;
                if (route.Body.Length > 0)
                {
                    body = JsonFormatter.Default.Format(request);
                }
                else
                {
                    var query = route.Rpc.InputType.Fields.InDeclarationOrder()
                        .Where(field => field.FieldType == FieldType.String && !route.Parameters.Contains(field.Name))
                        .Select(field => $"{field.JsonName}={Uri.EscapeDataString(payload)}");
                    path += "?" + string.Join('&', query);
                }

                var reply = await rest.SendAsync(route.Method, path, key, body);
                if ((int)reply.Status >= 500)
                {
                    problems.Add($"{route} with '{payload}': {reply}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>An action request with a reason (so it is refused for the tenant, not for a missing field).</summary>
    private sealed class ReasonedRequest(MethodDescriptor rpc)
    {
        public IMessage Message { get; } = WithReason(rpc);

        private static IMessage WithReason(MethodDescriptor rpc)
        {
            var message = AttackMessages.Empty(rpc);
            if (rpc.InputType.FindFieldByName("reason") is { FieldType: FieldType.String } reason)
            {
                reason.Accessor.SetValue(message, "attempt across tenants");
            }

            // A request naming a vendor (assign vendor) names the other tenant's, so that only the row look-up can refuse it.
            if (rpc.InputType.FindFieldByName("vendor_code") is { FieldType: FieldType.String } vendorCode)
            {
                vendorCode.Accessor.SetValue(message, IsolationWorld.BVendorCode);
            }

            return message;
        }
    }
}
