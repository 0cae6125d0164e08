using System.Text;
using Invisible.Identity.Mfa;

namespace Invisible.Identity.Tests;

public sealed class Base32Tests
{
    // RFC 4648 section 10, without padding.
    [Theory]
    [InlineData("", "")]
    [InlineData("f", "MY")]
    [InlineData("fo", "MZXQ")]
    [InlineData("foo", "MZXW6")]
    [InlineData("foob", "MZXW6YQ")]
    [InlineData("fooba", "MZXW6YTB")]
    [InlineData("foobar", "MZXW6YTBOI")]
    public void Encoding_and_decoding_match_RFC_4648(string plain, string encoded)
    {
        Assert.Equal(encoded, Base32.Encode(Encoding.ASCII.GetBytes(plain)));
        Assert.Equal(plain, Encoding.ASCII.GetString(Base32.Decode(encoded)));
    }

    [Fact]
    public void Decoding_accepts_how_people_copy_secrets()
    {
        Assert.Equal("foobar", Encoding.ASCII.GetString(Base32.Decode("mzxw 6ytb oi======")));
    }

    [Fact]
    public void Decoding_refuses_characters_outside_the_alphabet()
    {
        var error = Assert.Throws<FormatException>(() => Base32.Decode("MZXW1"));
        Assert.Contains("'1'", error.Message, StringComparison.Ordinal);
    }
}
