using System.Globalization;
using Invisible.Platform.Secrets;
using Invisible.Server.Security;

namespace Invisible.Server.Keying;

/// <summary>Who a valid ticket was issued to, for which item.</summary>
public sealed record PdfTicket(Guid TenantId, Guid UserId, ToKeyItemId Item, DateTimeOffset ExpiresAt);

/// <summary>
/// Short-lived tickets that let an &lt;iframe&gt; load one item's PDF from our origin: a frame cannot send the caller's
/// bearer token, and putting the token itself in a URL would leak it into history and logs. A ticket names tenant, user,
/// item and expiry, signed for this purpose alone (<see cref="SignedPayloads"/>).
/// </summary>
public sealed class PdfTickets(ISecretStore secrets, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly SignedPayloads payloads = new(secrets, "invisible keying pdf ticket v1");

    public Task<string> IssueAsync(Guid tenantId, Guid userId, ToKeyItemId item, CancellationToken cancellationToken)
    {
        var expires = time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds();
        return payloads.SignAsync(
            [tenantId.ToString("N"), userId.ToString("N"), item.ToString(), expires.ToString(CultureInfo.InvariantCulture)], cancellationToken);
    }

    /// <summary>The ticket's claims when it is genuine, unexpired and for <paramref name="item"/>; null otherwise.</summary>
    public async Task<PdfTicket?> ValidateAsync(string? ticket, ToKeyItemId item, CancellationToken cancellationToken)
    {
        if (await payloads.OpenAsync(ticket, 4, cancellationToken) is not [var tenant, var user, var named, var expiry] ||
            !Guid.TryParseExact(tenant, "N", out var tenantId) || !Guid.TryParseExact(user, "N", out var userId) ||
            !ToKeyItemId.TryParse(named, out var namedItem) || namedItem != item ||
            !long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return null;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires);
        return time.GetUtcNow() < expiresAt ? new PdfTicket(tenantId, userId, item, expiresAt) : null;
    }
}
