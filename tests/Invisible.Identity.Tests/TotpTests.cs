using System.Security.Cryptography;
using System.Text;
using Invisible.Identity.Mfa;

namespace Invisible.Identity.Tests;

public sealed class TotpTests
{
    private static readonly byte[] Sha1Seed = Encoding.ASCII.GetBytes("12345678901234567890");
    private static readonly byte[] Sha256Seed = Encoding.ASCII.GetBytes("12345678901234567890123456789012");
    private static readonly byte[] Sha512Seed = Encoding.ASCII.GetBytes("1234567890123456789012345678901234567890123456789012345678901234");

    // RFC 6238 Appendix B.
    [Theory]
    [InlineData(59L, "94287082", "46119246", "90693936")]
    [InlineData(1111111109L, "07081804", "68084774", "25091201")]
    [InlineData(1111111111L, "14050471", "67062674", "99943326")]
    [InlineData(1234567890L, "89005924", "91819424", "93441116")]
    [InlineData(2000000000L, "69279037", "90698825", "38618901")]
    [InlineData(20000000000L, "65353130", "77737706", "47863826")]
    public void Codes_match_the_RFC_6238_test_vectors(long unixSeconds, string sha1, string sha256, string sha512)
    {
        var step = Totp.StepAt(DateTimeOffset.FromUnixTimeSeconds(unixSeconds));

        Assert.Equal(sha1, Totp.Code(Sha1Seed, step, 8, HashAlgorithmName.SHA1));
        Assert.Equal(sha256, Totp.Code(Sha256Seed, step, 8, HashAlgorithmName.SHA256));
        Assert.Equal(sha512, Totp.Code(Sha512Seed, step, 8, HashAlgorithmName.SHA512));
    }

    // RFC 4226 Appendix D: HOTP, 6 digits, counters 0..9.
    [Fact]
    public void Six_digit_codes_match_the_RFC_4226_test_vectors()
    {
        string[] expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];

        Assert.Equal(expected, Enumerable.Range(0, 10).Select(counter => Totp.Code(Sha1Seed, counter)));
    }

    [Fact]
    public void A_current_code_is_accepted_once_and_its_replay_is_refused()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);
        var code = Totp.Code(Sha1Seed, Totp.StepAt(now));

        var first = Totp.Verify(Sha1Seed, code, now, lastAcceptedStep: null);
        var replay = Totp.Verify(Sha1Seed, code, now.AddSeconds(5), lastAcceptedStep: first.Step);

        Assert.True(first.Accepted);
        Assert.Equal(Totp.StepAt(now), first.Step);
        Assert.False(replay.Accepted);
        Assert.Equal(TotpRejection.Replayed, replay.Rejection);
    }

    [Fact]
    public void An_earlier_step_than_the_last_accepted_one_is_refused_too()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);
        var previous = Totp.Code(Sha1Seed, Totp.StepAt(now) - 1);

        var result = Totp.Verify(Sha1Seed, previous, now, lastAcceptedStep: Totp.StepAt(now));

        Assert.Equal(TotpRejection.Replayed, result.Rejection);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void A_code_one_step_off_is_accepted_for_clock_drift(int offset)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);

        var result = Totp.Verify(Sha1Seed, Totp.Code(Sha1Seed, Totp.StepAt(now) + offset), now, lastAcceptedStep: null);

        Assert.True(result.Accepted);
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(2)]
    public void A_code_two_steps_off_is_refused(int offset)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);

        var result = Totp.Verify(Sha1Seed, Totp.Code(Sha1Seed, Totp.StepAt(now) + offset), now, lastAcceptedStep: null);

        Assert.Equal(TotpRejection.Wrong, result.Rejection);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("12a456")]
    public void Anything_but_six_digits_is_malformed(string? code)
    {
        Assert.Equal(TotpRejection.Malformed, Totp.Verify(Sha1Seed, code, DateTimeOffset.UnixEpoch, null).Rejection);
    }

    [Fact]
    public void The_enrolment_uri_follows_the_key_uri_format()
    {
        var uri = Totp.EnrolmentUri(Encoding.ASCII.GetBytes("foobar"), "Invisible", "ana@acme.example");

        Assert.Equal("otpauth://totp/Invisible:ana%40acme.example?secret=MZXW6YTBOI&issuer=Invisible&algorithm=SHA1&digits=6&period=30", uri.OriginalString);
    }

    [Fact]
    public void New_secrets_are_160_random_bits()
    {
        var a = Totp.NewSecret();
        var b = Totp.NewSecret();

        Assert.Equal(20, a.Length);
        Assert.NotEqual(a, b);
    }
}
