using System.Security.Cryptography;
using System.Text;

namespace Invisible.Identity.Tokens;

/// <summary>
/// Refresh tokens are opaque random strings (256 bits, base64url). Only their SHA-256 is stored: a leaked table cannot be
/// replayed, and the token's entropy makes a slow hash unnecessary. Rotation and reuse detection live with the storage.
/// </summary>
public static class RefreshTokens
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(14);

    public static string New() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
