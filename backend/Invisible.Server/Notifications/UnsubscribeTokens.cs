using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Invisible.Identity.Tokens;
using Invisible.Platform.Secrets;
using Invisible.Server.Accounts;

namespace Invisible.Server.Notifications;

/// <summary>Whom an unsubscribe link is for and which kind of e-mail it turns off.</summary>
public sealed record UnsubscribeClaim(Guid TenantId, Guid UserId, string Kind);

/// <summary>
/// The token of an e-mail's unsubscribe link: tenant, person and kind, signed with HMAC-SHA256 under a key derived from
/// the access-token key ring (as <see cref="Keying.PdfTickets"/>, another purpose: one can never pass as the other). It
/// does not expire (an old e-mail's link still works) and can do one thing only: turn e-mail of its kind off.
/// </summary>
public sealed class UnsubscribeTokens(ISecretStore secrets)
{
    private static readonly byte[] Purpose = Encoding.ASCII.GetBytes("invisible notification unsubscribe v1");

    private readonly SecretStoreValue<SigningKeyRing> _keys = new(secrets, SecretNames.JwtSigningKey, SigningKeyRing.FromSecret);

    public async Task<string> IssueAsync(UnsubscribeClaim claim, CancellationToken cancellationToken)
    {
        var key = (await _keys.GetAsync(cancellationToken)).Active;
        var payload = string.Join('.', key.Id, claim.TenantId.ToString("N"), claim.UserId.ToString("N"), claim.Kind);
        return $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{Base64Url.EncodeToString(Sign(key, payload))}";
    }

    /// <summary>The claim of a genuine token; null for anything else.</summary>
    public async Task<UnsubscribeClaim?> ValidateAsync(string? token, CancellationToken cancellationToken)
    {
        var parts = (token ?? "").Split('.');
        if (parts.Length != 2 || parts[0].Length > 512 || parts[1].Length > 128)
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
        return fields.Length == 4 && (await _keys.GetAsync(cancellationToken)).Find(fields[0]) is { } key &&
               CryptographicOperations.FixedTimeEquals(Sign(key, payload), signature) &&
               Guid.TryParseExact(fields[1], "N", out var tenantId) && Guid.TryParseExact(fields[2], "N", out var userId) &&
               (NotificationKinds.IsChosen(fields[3]) || fields[3] == NotificationKinds.DailyDigest)
            ? new UnsubscribeClaim(tenantId, userId, fields[3])
            : null;
    }

    private static byte[] Sign(SigningKey key, string payload) =>
        HMACSHA256.HashData(HMACSHA256.HashData(key.Secret, Purpose), Encoding.UTF8.GetBytes(payload));
}
