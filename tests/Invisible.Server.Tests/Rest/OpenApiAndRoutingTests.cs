using System.Net;

namespace Invisible.Server.Tests.Rest;

/// <summary>The OpenAPI document integrators generate clients from, and what a wrong REST path is answered with.</summary>
[Collection(RestCollection.Name)]
public sealed class OpenApiAndRoutingTests(RestServer rest)
{
    /// <summary>
    /// Every <c>google.api.http</c> rule of the protos, with the proto comment its operation must carry (null: the method has
    /// none). Path parameters are named by their JSON names in the document, as Microsoft.AspNetCore.Grpc.Swagger writes them.
    /// </summary>
    public static readonly (string Method, string Path, string? Comment)[] Documented =
    [
        ("get", "/v1/invoices", "The tenant's invoices in import order"),
        ("get", "/v1/invoices/{invoiceId}", "One invoice with its current decision"),
        ("get", "/v1/dashboard", "Counters for the dashboard"),
        ("get", "/v1/tolerances", "The tenant default and every per-vendor override"),
        ("post", "/v1/reconcile", null),
        ("get", "/v1/exceptions", null),
        ("get", "/v1/exceptions/{exceptionId}", null),
        ("post", "/v1/exceptions/{exceptionId}:approve", "Override: accept the invoice as it is."),
        ("post", "/v1/exceptions/{exceptionId}:reject", "The invoice is not payable."),
        ("post", "/v1/exceptions/{exceptionId}:assign", "Assign to a user of the tenant"),
        ("get", "/v1/exceptions/{exceptionId}/rematch-candidates", "Ranked PO candidates"),
        ("post", "/v1/exceptions/{exceptionId}:assign-vendor", "The vendor of an invoice whose vendor the engine could not name"),
        ("get", "/v1/vendor-duplicates", "Vendors of the master that are probably one company"),
        ("get", "/v1/matching-model", "The tenant's active vendor-name model"),
        ("post", "/v1/matching-model:retrain", "Retrains the vendor-name model now (admins)"),
        ("get", "/v1/imports", "The tenant's import history, newest first."),
        ("get", "/v1/imports/{importId}", null),
        ("get", "/v1/audit-entries", "Newest first."),
        ("get", "/v1/vendors", null),
        ("get", "/v1/vendors/{vendorCode}", "NOT_FOUND (reason VENDOR_NOT_FOUND)"),
        ("post", "/v1/vendors/{survivorCode}:merge", "Merges vendors the caller says are one company into the survivor"),
        ("post", "/v1/vendor-merges/{mergeId}:unmerge", "Restores exactly what a merge changed"),
        ("post", "/v1/vendor-duplicates:dismiss", "Remembers that two vendors are not one company"),
        ("get", "/v1/admin/ip-allowlist", "The address ranges (CIDR)"),
        ("put", "/v1/admin/ip-allowlist", "Replaces the list."),
        ("get", "/v1/intake/messages", "Newest first."),
        ("get", "/v1/intake/messages/{messageId}", "NOT_FOUND (reason INTAKE_MESSAGE_NOT_FOUND)"),
        ("post", "/v1/intake/messages/{messageId}:release", "Processes a held message as if its sender were trusted."),
        ("post", "/v1/intake/messages/{messageId}:discard", "Keeps a held message in the log as discarded"),
        ("get", "/v1/intake/settings", "The tenant's receiving addresses and sender allowlist."),
        ("post", "/v1/intake/addresses", "Adds an alias address (admins)."),
        ("post", "/v1/intake/allowlist", "Trusts a sender address"),
        ("get", "/v1/keying/items", "The tenant's to-key items, oldest first"),
        ("get", "/v1/keying/items/{itemId}", "NOT_FOUND (reason KEYING_ITEM_NOT_FOUND)"),
        ("get", "/v1/keying/purchase-orders/{poNumber}/lines", "The lines of a current, open purchase order to pick from."),
        ("post", "/v1/keying/items/{itemId}:submit", "Stores the keyed invoice through the import path"),
        ("post", "/v1/keying/items/{itemId}:discard", "Takes an item out of the queue without an invoice"),
        ("get", "/v1/quickbooks/connection", "The connection (status \"none\" when the tenant never connected)."),
        ("post", "/v1/quickbooks/connection:start", "Starts the OAuth 2.0 authorization-code flow"),
        ("post", "/v1/quickbooks/connection:disconnect", "Revokes the tokens at Intuit and forgets them."),
        ("post", "/v1/quickbooks/connection:configure", "Default expense account"),
        ("get", "/v1/quickbooks/exports", "Export states, newest change first"),
        ("get", "/v1/quickbooks/company-lists", "What the connected company offers the mapping screens"),
        ("get", "/v1/quickbooks/vendor-mappings", "Every vendor of ours with the QuickBooks vendor"),
        ("post", "/v1/quickbooks/vendor-mappings/{vendorId}", "Maps one of our vendors to a QuickBooks vendor"),
        ("post", "/v1/quickbooks/exports/{invoiceId}:retry", "NOT_FOUND (reason EXPORT_NOT_FOUND)"),
        ("get", "/v1/intake/mailbox", "The IMAP mailbox the product polls for the tenant"),
        ("put", "/v1/intake/mailbox", "Connects or changes the mailbox (admins)"),
        ("post", "/v1/intake/mailbox:test", "Signs in to the given server and opens its INBOX"),
        ("delete", "/v1/intake/mailbox", "Stops polling and forgets the mailbox"),
        ("get", "/v1/approval-rules", "The tenant's rules, the four-eyes rule"),
        ("put", "/v1/approval-rules", "Replaces rules, four-eyes and rates as a whole"),
        ("post", "/v1/approval-rules:preview", "Which open exceptions each rule of a draft would catch"),
        ("get", "/v1/approval-delegations", "Admins see every delegation"),
        ("post", "/v1/approval-delegations", "Delegates the caller's approvals"),
        ("post", "/v1/approval-delegations/{delegationId}:revoke", "Ends a delegation now"),
        ("get", "/v1/notification-preferences", "The caller's choices per kind"),
        ("put", "/v1/notification-preferences", "Replaces the caller's choices for the kinds given."),
        ("get", "/v1/notifications", "The caller's in-app notifications, newest first"),
        ("post", "/v1/notifications:mark-read", "Marks the given notifications"),
        ("post", "/v1/notifications:unsubscribe", "The unsubscribe link of an e-mail, without signing in"),
    ];

    [Fact]
    public async Task The_OpenAPI_document_is_anonymous_and_lists_every_documented_path_with_its_method_and_proto_comment()
    {
        var document = await rest.GetAsync("/openapi/v1.json", apiKey: null);

        Assert.True(document.Status == HttpStatusCode.OK, document.ToString());
        var paths = document.Json.GetProperty("paths");
        var failures = new List<string>();
        foreach (var (method, path, comment) in Documented)
        {
            if (!paths.TryGetProperty(path, out var item) || !item.TryGetProperty(method, out var operation))
            {
                failures.Add($"{method.ToUpperInvariant()} {path} is not in the document");
                continue;
            }

            var text = string.Join(' ', new[] { "summary", "description" }
                .Select(name => operation.TryGetProperty(name, out var value) ? value.GetString() : null));
            if (comment is not null && !text.Contains(comment, StringComparison.Ordinal))
            {
                failures.Add($"{method.ToUpperInvariant()} {path} lacks the proto comment '{comment}': '{text}'");
            }
        }

        // Nothing else: a new rule must be added to the README's list (and to Documented) on purpose.
        var listed = paths.EnumerateObject().SelectMany(item => item.Value.EnumerateObject().Select(operation => (operation.Name, item.Name))).ToHashSet();
        failures.AddRange(listed.Except(Documented.Select(entry => (entry.Method, entry.Path))).Select(extra => $"undocumented {extra.Item1} {extra.Item2}"));
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Theory]
    [InlineData("GET", "/v1/nope")]
    [InlineData("GET", "/v1/invoices/a/b")]
    [InlineData("POST", "/v1/nope")]
    [InlineData("GET", "/v1")]
    [InlineData("GET", "/openapi/nope")]
    [InlineData("GET", "/openapi/v2.json")]
    public async Task A_wrong_REST_path_is_a_404_and_not_the_web_app(string method, string path)
    {
        var reply = await rest.SendAsync(new HttpMethod(method), path, apiKey: null, method == "POST" ? "{}" : null);

        Assert.True(reply.Status == HttpStatusCode.NotFound, reply.ToString());
        Assert.DoesNotContain("<app-root>", reply.Body, StringComparison.Ordinal);
        // Under /v1 a client gets a status it can parse like any other error (Swashbuckle answers an unknown document itself).
        if (path.StartsWith("/v1", StringComparison.Ordinal))
        {
            Assert.True(reply.MediaType == "application/json", reply.ToString());
            Assert.Equal((5, "METHOD_NOT_FOUND"), (reply.Json.GetProperty("code").GetInt32(), reply.Reason));
        }
    }

    [Fact]
    public async Task A_deep_link_of_the_web_app_still_gets_the_web_app()
    {
        var reply = await rest.GetAsync("/exceptions/42", apiKey: null);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Contains("<app-root>", reply.Body, StringComparison.Ordinal);
    }
}
