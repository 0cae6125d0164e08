using Microsoft.AspNetCore.Identity;

namespace Invisible.Server.Accounts;

/// <summary>
/// The one place passwords are hashed: ASP.NET Core Identity's hasher (PBKDF2-HMAC-SHA512, 100 000 iterations, per-hash salt,
/// versioned format so the work factor can grow and old hashes are upgraded on the next sign-in).
/// </summary>
public static class PasswordHashing
{
    private static readonly PasswordHasher<object> Hasher = new();
    private static readonly object NoUser = new();

    // Verified when the e-mail address is unknown (or the user has no password), so a failed sign-in does the same PBKDF2
    // work whether or not the account exists. Made by the same hasher, so it carries the current format and iteration count.
    private static readonly string DecoyHash = Hasher.HashPassword(NoUser, Guid.NewGuid().ToString());

    private static long _verifications;

    /// <summary>
    /// Password verifications done by this process, decoys included: what proves that sign-in for an unknown account does
    /// the hashing a known one does, without timing anything.
    /// </summary>
    public static long Verifications => Interlocked.Read(ref _verifications);

    public static string Hash(string password) => Hasher.HashPassword(NoUser, password);

    /// <returns>Whether it matches, and whether the stored hash should be replaced by <see cref="Hash"/> of the password.</returns>
    public static (bool Matches, bool NeedsRehash) Verify(string? hash, string password)
    {
        Interlocked.Increment(ref _verifications);
        var result = Hasher.VerifyHashedPassword(NoUser, hash ?? DecoyHash, password);
        return hash is null
            ? (false, false)
            : (result != PasswordVerificationResult.Failed, result == PasswordVerificationResult.SuccessRehashNeeded);
    }
}
