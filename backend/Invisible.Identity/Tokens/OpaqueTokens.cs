using System.Security.Cryptography;
using System.Text;

namespace Invisible.Identity.Tokens;

/// <summary>
/// Bearer secrets that are looked up rather than verified (refresh tokens, invitation links, API keys): 256 random bits,
/// base64url. Only their SHA-256 is stored: a leaked table cannot be replayed, and the entropy makes a slow hash unnecessary.
/// </summary>
public static class OpaqueTokens
{
    public static string New(string prefix = "") => prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.ASCII.GetBytes(token));
}

/// <summary>Service-account keys: <c>ink_</c> + 256 random bits; the first characters are kept in clear to tell keys apart.</summary>
public static class ApiKeys
{
    public const string Prefix = "ink_";
    private const int ShownLength = 12;

    public static string New() => OpaqueTokens.New(Prefix);

    public static string ShownPrefix(string key) => key[..Math.Min(ShownLength, key.Length)];
}
