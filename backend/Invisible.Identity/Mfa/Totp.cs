using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Invisible.Identity.Mfa;

/// <summary>Why a TOTP code was refused; shown to nobody verbatim (the user sees one generic message), but logged and audited.</summary>
public enum TotpRejection
{
    Malformed,
    Wrong,
    Replayed,
}

/// <param name="Step">The time step the code belongs to, when accepted: store it, so the same code cannot be used twice.</param>
public readonly record struct TotpVerification(bool Accepted, long? Step, TotpRejection? Rejection)
{
    public static TotpVerification Accept(long step) => new(true, step, null);

    public static TotpVerification Reject(TotpRejection reason) => new(false, null, reason);
}

/// <summary>
/// Time-based one-time passwords, RFC 6238 over RFC 4226 HOTP: HMAC-SHA-1, 6 digits, 30-second steps, accepted one step
/// either side of now (clock drift of phones), each step at most once per user (replay rejection).
/// </summary>
public static class Totp
{
    public const int Digits = 6;
    public const int SecretLength = 20; // 160 bits, RFC 4226 section 4 recommends at least 128.
    public static readonly TimeSpan StepLength = TimeSpan.FromSeconds(30);
    public const int AllowedDriftSteps = 1;

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretLength);

    public static long StepAt(DateTimeOffset time) => time.ToUnixTimeSeconds() / (long)StepLength.TotalSeconds;

    /// <summary>RFC 4226 HOTP value for a counter; <paramref name="hash"/> is SHA1 in the product, others for the RFC test vectors.</summary>
    public static string Code(ReadOnlySpan<byte> secret, long step, int digits = Digits, HashAlgorithmName? hash = null)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> mac = stackalloc byte[64];
        var length = (hash ?? HashAlgorithmName.SHA1).Name switch
        {
#pragma warning disable CA5350 // RFC 6238 and every authenticator app use HMAC-SHA-1; its use as a MAC is not weakened by SHA-1 collisions.
            "SHA1" => HMACSHA1.HashData(secret, counter, mac),
#pragma warning restore CA5350
            "SHA256" => HMACSHA256.HashData(secret, counter, mac),
            "SHA512" => HMACSHA512.HashData(secret, counter, mac),
            var other => throw new ArgumentOutOfRangeException(nameof(hash), other, "TOTP supports SHA1, SHA256 and SHA512."),
        };

        // Dynamic truncation, RFC 4226 section 5.3.
        var offset = mac[length - 1] & 0x0F;
        var binary = (BinaryPrimitives.ReadInt32BigEndian(mac[offset..]) & 0x7FFFFFFF) % (int)Math.Pow(10, digits);
        return binary.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    /// <param name="lastAcceptedStep">The step of the last code this user had accepted (null if none): that step and earlier ones are refused.</param>
    public static TotpVerification Verify(ReadOnlySpan<byte> secret, string? code, DateTimeOffset now, long? lastAcceptedStep)
    {
        var candidate = code?.Replace(" ", "", StringComparison.Ordinal);
        if (candidate is not { Length: Digits } || !candidate.All(char.IsAsciiDigit))
        {
            return TotpVerification.Reject(TotpRejection.Malformed);
        }

        var current = StepAt(now);
        for (var step = current - AllowedDriftSteps; step <= current + AllowedDriftSteps; step++)
        {
            if (CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.ASCII.GetBytes(Code(secret, step)), System.Text.Encoding.ASCII.GetBytes(candidate)))
            {
                return step <= lastAcceptedStep ? TotpVerification.Reject(TotpRejection.Replayed) : TotpVerification.Accept(step);
            }
        }

        return TotpVerification.Reject(TotpRejection.Wrong);
    }

    /// <summary>The <c>otpauth://</c> URI that authenticator apps read from a QR code (Google Authenticator key URI format).</summary>
    public static Uri EnrolmentUri(ReadOnlySpan<byte> secret, string issuer, string accountName)
    {
        var label = Uri.EscapeDataString(issuer) + ":" + Uri.EscapeDataString(accountName);
        return new Uri(
            $"otpauth://totp/{label}?secret={Base32.Encode(secret)}&issuer={Uri.EscapeDataString(issuer)}" +
            $"&algorithm=SHA1&digits={Digits}&period={(int)StepLength.TotalSeconds}");
    }
}
