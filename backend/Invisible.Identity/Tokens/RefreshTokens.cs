namespace Invisible.Identity.Tokens;

/// <summary>
/// Refresh tokens are <see cref="OpaqueTokens"/>, stored hashed. Each use rotates them; rotation and reuse detection
/// (a used token presented again revokes its whole family) live with the storage.
/// </summary>
public static class RefreshTokens
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(14);

    public static string New() => OpaqueTokens.New();

    public static byte[] Hash(string token) => OpaqueTokens.Hash(token);
}
