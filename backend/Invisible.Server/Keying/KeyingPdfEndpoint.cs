using Invisible.Server.Http;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Net.Http.Headers;

namespace Invisible.Server.Keying;

/// <summary>
/// <c>GET /v1/keying/items/{item_id}/pdf</c>: the kept PDF of a to-key item, from our own origin, so the SPA can show it in
/// an &lt;iframe&gt; without widening its content security policy. Callable with a ticket from <c>GetToKeyItem</c>'s
/// <c>pdf_url</c> (what a frame can send) or with the caller's bearer token or API key; read under the caller's tenant, so
/// another tenant's item is not found.
/// </summary>
public static class KeyingPdfEndpoint
{
    public const string Route = "/v1/keying/items/{itemId}/pdf";

    public static string PathOf(ToKeyItemId id, string ticket) => $"/v1/keying/items/{id}/pdf?ticket={Uri.EscapeDataString(ticket)}";

    public static IEndpointRouteBuilder MapKeyingPdf(this IEndpointRouteBuilder endpoints)
    {
        // Anonymous to the authorization middleware: the ticket, or else the Reader policy, is checked here.
        endpoints.MapGet(Route, ServeAsync).AllowAnonymous().WithName("GetToKeyPdf");
        return endpoints;
    }

    private static async Task<IResult> ServeAsync(
        string itemId, HttpContext http, PdfTickets tickets, KeyingQueue queue, IAuthorizationService authorization, CancellationToken cancellationToken)
    {
        if (!ToKeyItemId.TryParse(itemId, out var id))
        {
            return Results.NotFound();
        }

        Guid tenantId;
        if (http.Request.Query.TryGetValue("ticket", out var ticket))
        {
            if (await tickets.ValidateAsync(ticket.ToString(), id, cancellationToken) is not { } valid)
            {
                return Results.Unauthorized();
            }

            tenantId = valid.TenantId;
        }
        else if (CallerPrincipal.Read(http.User) is { } caller && (await authorization.AuthorizeAsync(http.User, null, AccessPolicies.Reader)).Succeeded)
        {
            tenantId = caller.TenantId;
        }
        else
        {
            return Results.Unauthorized();
        }

        // Read under the caller's (or the ticket's) tenant: another tenant's item is not found.
        var item = await queue.FindAsync(tenantId, id, cancellationToken);
        if (item is null || await queue.GetPdfAsync(item, cancellationToken) is not { } content)
        {
            return Results.NotFound();
        }

        SecurityHeaders.AllowFramingBySelf(http);
        var disposition = new ContentDispositionHeaderValue("inline");
        disposition.SetHttpFileName(Path.GetFileName(item.Attachment.FileName) is { Length: > 0 } name ? name : "invoice.pdf");
        http.Response.Headers.ContentDisposition = disposition.ToString();
        http.Response.Headers.CacheControl = "private, no-store";
        return Results.Bytes(content, "application/pdf");
    }
}
