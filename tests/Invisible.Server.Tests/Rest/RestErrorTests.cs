using System.Net;
using System.Text.Json;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Rest;

/// <summary>
/// How REST callers are refused and told what went wrong: HTTP status plus the same <c>google.rpc.Status</c> a gRPC client
/// gets (code, message, <c>ErrorInfo</c> reason, <c>BadRequest</c> field violations), as JSON.
/// </summary>
[Collection(RestCollection.Name)]
public sealed class RestErrorTests(RestServer rest)
{
    private const string ErrorInfo = "type.googleapis.com/google.rpc.ErrorInfo";
    private const string BadRequest = "type.googleapis.com/google.rpc.BadRequest";

    [Fact]
    public async Task An_unauthenticated_REST_call_is_401_with_the_reason()
    {
        var failures = new List<string>();
        foreach (var (method, path) in new[] { ("GET", "/v1/invoices"), ("GET", "/v1/dashboard"), ("POST", "/v1/reconcile"), ("GET", "/v1/audit-entries") })
        {
            Expect(failures, await rest.SendAsync(new HttpMethod(method), path, apiKey: null, method == "POST" ? "{}" : null), HttpStatusCode.Unauthorized, 16, "UNAUTHENTICATED");
            Expect(failures, await rest.SendAsync(new HttpMethod(method), path, apiKey: "ink_not-a-key", method == "POST" ? "{}" : null), HttpStatusCode.Unauthorized, 16, "API_KEY_INVALID");
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_REST_call_of_a_role_that_may_not_is_403_ROLE_NOT_PERMITTED()
    {
        var queue = await QueueTenantAsync();
        var clerk = await rest.ApiKeyAsync(queue.Tenant, Roles.Clerk);
        var auditor = await rest.ApiKeyAsync(queue.Tenant, Roles.Auditor);
        var exceptionId = Guid.NewGuid();
        var failures = new List<string>();

        // Approving is for approvers and admins, reconciling for clerks and admins, the audit log for auditors and admins.
        Expect(failures, await rest.PostAsync($"/v1/exceptions/{exceptionId}:approve", clerk, """{"reason":"looks fine"}"""), HttpStatusCode.Forbidden, 7, "ROLE_NOT_PERMITTED");
        Expect(failures, await rest.PostAsync($"/v1/exceptions/{exceptionId}:reject", auditor, """{"reason":"not ours"}"""), HttpStatusCode.Forbidden, 7, "ROLE_NOT_PERMITTED");
        Expect(failures, await rest.PostAsync("/v1/reconcile", auditor, "{}"), HttpStatusCode.Forbidden, 7, "ROLE_NOT_PERMITTED");
        Expect(failures, await rest.GetAsync("/v1/audit-entries", clerk), HttpStatusCode.Forbidden, 7, "ROLE_NOT_PERMITTED");

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_domain_error_over_REST_carries_the_same_status_details_as_over_gRPC()
    {
        var queue = await QueueTenantAsync();
        var approver = await rest.ApiKeyAsync(queue.Tenant, Roles.Approver);
        var failures = new List<string>();

        var unknownInvoice = await rest.GetAsync($"/v1/invoices/{Guid.NewGuid()}", approver);
        var unknownVendor = await rest.GetAsync("/v1/vendors/NOPE", approver);
        var withoutReason = await rest.PostAsync($"/v1/exceptions/{Guid.NewGuid()}:approve", approver, """{"reason":" "}""");
        var pageTooLarge = await rest.GetAsync("/v1/invoices?pageSize=999", approver);

        Expect(failures, unknownInvoice, HttpStatusCode.NotFound, 5, "INVOICE_NOT_FOUND");
        Expect(failures, unknownVendor, HttpStatusCode.NotFound, 5, "VENDOR_NOT_FOUND");
        Expect(failures, withoutReason, HttpStatusCode.BadRequest, 3, reason: null);
        ExpectViolation(failures, withoutReason, "reason");
        Expect(failures, pageTooLarge, HttpStatusCode.BadRequest, 3, reason: null);
        ExpectViolation(failures, pageTooLarge, "page_size");

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_REST_body_that_is_not_JSON_is_400_with_a_status_body()
    {
        var queue = await QueueTenantAsync();
        var approver = await rest.ApiKeyAsync(queue.Tenant, Roles.Approver);

        var garbled = await rest.PostAsync($"/v1/exceptions/{Guid.NewGuid()}:approve", approver, "{reason: nope");

        Assert.Equal(HttpStatusCode.BadRequest, garbled.Status);
        Assert.Equal("application/json", garbled.MediaType);
        Assert.Equal(3, garbled.Json.GetProperty("code").GetInt32());
    }

    private async Task<Exceptions.QueueTenant> QueueTenantAsync() => await Exceptions.QueueTenant.CreateAsync(rest.Accounts);

    /// <summary>Adds to <paramref name="failures"/> what differs from the expected HTTP status, google.rpc.Code and ErrorInfo reason.</summary>
    private static void Expect(List<string> failures, RestReply reply, HttpStatusCode status, int code, string? reason)
    {
        if (reply.Status != status || reply.MediaType != "application/json")
        {
            failures.Add($"expected {(int)status} JSON: {reply}");
            return;
        }

        var body = reply.Json;
        if (!body.TryGetProperty("code", out var actualCode) || actualCode.GetInt32() != code || string.IsNullOrEmpty(body.GetProperty("message").GetString()))
        {
            failures.Add($"expected code {code} and a message: {reply}");
        }

        if (reason is not null)
        {
            var info = reply.Details(ErrorInfo).ToList();
            if (info.Count != 1 || info[0].GetProperty("reason").GetString() != reason || string.IsNullOrEmpty(info[0].GetProperty("domain").GetString()))
            {
                failures.Add($"expected one ErrorInfo {reason} with its domain: {reply}");
            }
        }
    }

    private static void ExpectViolation(List<string> failures, RestReply reply, string field)
    {
        var violations = reply.Details(BadRequest)
            .SelectMany(detail => detail.TryGetProperty("fieldViolations", out var list) ? list.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(violation => violation.GetProperty("field").GetString())
            .ToList();
        if (!violations.Contains(field))
        {
            failures.Add($"expected a BadRequest field violation of {field}: {reply}");
        }
    }
}
