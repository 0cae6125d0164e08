using System.Security.Cryptography;
using System.Text;

namespace Invisible.Identity.Mfa;

/// <summary>
/// Ten one-time codes for when the phone is lost. Shown once at enrolment; only their SHA-256 hashes are stored
/// (each code carries 50 random bits, so a fast hash is enough and a slow one would only cost sign-in latency).
/// </summary>
public static class RecoveryCodes
{
    public const int Count = 10;

    private const string Alphabet = "abcdefghjkmnpqrstuvwxyz23456789";

    public static IReadOnlyList<string> Generate() =>
        Enumerable.Range(0, Count).Select(_ => $"{RandomNumberGenerator.GetString(Alphabet, 5)}-{RandomNumberGenerator.GetString(Alphabet, 5)}").ToArray();

    public static string Hash(string code) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalise(code))));

    /// <summary>Returns the hashes left after using <paramref name="code"/>, or null if it is not one of them.</summary>
    public static IReadOnlyList<string>? Redeem(IReadOnlyList<string> storedHashes, string code)
    {
        var hash = Encoding.ASCII.GetBytes(Hash(code));
        var match = storedHashes.FirstOrDefault(stored => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), hash));
        return match is null ? null : storedHashes.Where(stored => !ReferenceEquals(stored, match)).ToArray();
    }

    private static string Normalise(string code) => code.Trim().ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);
}
