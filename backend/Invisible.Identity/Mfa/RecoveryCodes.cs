using System.Security.Cryptography;
using System.Text;

namespace Invisible.Identity.Mfa;

/// <summary>
/// Ten one-time codes for when the phone is lost. Shown once at enrolment; stored as <c>hmac1:</c> + base64 of
/// HMAC-SHA256(server key, SHA-256 hex of the code), so a copy of the database alone cannot test guesses offline (each
/// code carries 50 random bits, so a fast keyed hash is enough and a slow one would only cost sign-in latency).
/// </summary>
/// <remarks>
/// The HMAC is taken over the plain SHA-256 hex that older versions stored, so a stored plain hash is wrapped into the
/// keyed form (<see cref="Wrap"/>) without knowing its code. Both forms are accepted by <see cref="Redeem"/>, which returns
/// the rest wrapped.
/// </remarks>
public static class RecoveryCodes
{
    public const int Count = 10;

    public const string KeyedPrefix = "hmac1:";

    private const string Alphabet = "abcdefghjkmnpqrstuvwxyz23456789";

    public static IReadOnlyList<string> Generate() =>
        Enumerable.Range(0, Count).Select(_ => $"{RandomNumberGenerator.GetString(Alphabet, 5)}-{RandomNumberGenerator.GetString(Alphabet, 5)}").ToArray();

    /// <summary>The plain SHA-256 form (hex) stored before the keyed one; the input of <see cref="Wrap"/>.</summary>
    public static string Hash(string code) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalise(code))));

    /// <summary>What is stored for <paramref name="code"/>.</summary>
    public static string Protect(byte[] key, string code) => Wrap(key, Hash(code));

    /// <summary>The keyed form of a stored value: plain SHA-256 hex is wrapped, a keyed value is returned as it is.</summary>
    public static string Wrap(byte[] key, string stored) =>
        IsKeyed(stored) ? stored : KeyedPrefix + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(stored)));

    public static bool IsKeyed(string stored) => stored.StartsWith(KeyedPrefix, StringComparison.Ordinal);

    /// <summary>Returns the stored values left after using <paramref name="code"/> (all keyed), or null if it is not one of them.</summary>
    public static IReadOnlyList<string>? Redeem(byte[] key, IReadOnlyList<string> storedHashes, string code)
    {
        var wanted = Encoding.ASCII.GetBytes(Protect(key, code));
        var keyed = storedHashes.Select(stored => Wrap(key, stored)).ToArray();
        var match = Array.FindIndex(keyed, stored => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), wanted));
        return match < 0 ? null : keyed.Where((_, index) => index != match).ToArray();
    }

    private static string Normalise(string code) => code.Trim().ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);
}
