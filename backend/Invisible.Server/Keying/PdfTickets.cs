using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Invisible.Identity.Tokens;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;

namespace Invisible.Server.Keying;

/// <summary>Who a valid ticket was issued to, for which item.</summary>
public sealed record PdfTicket(Guid TenantId, Guid UserId, ToKeyItemId Item, DateTimeOffset ExpiresAt);

/// <summary>
/// Short-lived tickets that let an &lt;iframe&gt; load one item's PDF from our origin: a frame cannot send the caller's
/// bearer token, and putting the token itself in a URL would leak it into history and logs. A ticket names tenant, user,
/// item and expiry, signed with HMAC-SHA256 under a key derived from the access-token key ring (so every server of a
/// deployment accepts it, and a ticket can never pass as an access token nor the other way round).
/// </summary>
public sealed class PdfTickets(ISecretStore secrets, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    private static readonly byte[] Purpose = Encoding.ASCII.GetBytes("invisible keying pdf ticket v1");

    private readonly SecretStoreValue<SigningKeyRing> _keys = new(secrets, SecretNames.JwtSigningKey, SigningKeyRing.FromSecret);

    public async Task<string> IssueAsync(Guid tenantId, Guid userId, ToKeyItemId item, CancellationToken cancellationToken)
    {
        var key = (await _keys.GetAsync(cancellationToken)).Active;
        var expires = time.GetUtcNow().Add(Lifetime).ToUnixTimeSeconds();
        var payload = string.Join('.', key.Id, tenantId.ToString("N"), userId.ToString("N"), item.ToString(), expires.ToString(CultureInfo.InvariantCulture));
        return $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{Base64Url.EncodeToString(Sign(key, payload))}";
    }

    /// <summary>The ticket's claims when it is genuine, unexpired and for <paramref name="item"/>; null otherwise.</summary>
    public async Task<PdfTicket?> ValidateAsync(string? ticket, ToKeyItemId item, CancellationToken cancellationToken)
    {
        var parts = (ticket ?? "").Split('.');
        if (parts.Length != 2 || parts[0].Length > 512)
        {
            return null;
        }

        string payload;
        byte[] signature;
        try
        {
            payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0]));
            signature = Base64Url.DecodeFromChars(parts[1]);
        }
        catch (FormatException)
        {
            return null;
        }

        var fields = payload.Split('.');
        if (fields.Length != 5 || (await _keys.GetAsync(cancellationToken)).Find(fields[0]) is not { } key ||
            !CryptographicOperations.FixedTimeEquals(Sign(key, payload), signature) ||
            !Guid.TryParseExact(fields[1], "N", out var tenantId) || !Guid.TryParseExact(fields[2], "N", out var userId) ||
            !ToKeyItemId.TryParse(fields[3], out var named) || named != item ||
            !long.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return null;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(expires);
        return time.GetUtcNow() < expiresAt ? new PdfTicket(tenantId, userId, item, expiresAt) : null;
    }

    private static byte[] Sign(SigningKey key, string payload) =>
        HMACSHA256.HashData(HMACSHA256.HashData(key.Secret, Purpose), Encoding.UTF8.GetBytes(payload));
}
