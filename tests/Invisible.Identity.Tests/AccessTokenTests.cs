using System.Text;
using Invisible.Identity.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Invisible.Identity.Tests;

public sealed class AccessTokenTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);
    private static readonly Caller Ana = new(Guid.NewGuid(), Guid.NewGuid(), "approver", Guid.NewGuid(), Guid.NewGuid(), MfaSatisfied: true);

    private readonly ManualClock _clock = new(Now);
    private readonly SigningKey _key = SigningKey.Generate(Now.AddDays(-1));

    [Fact]
    public async Task A_fresh_token_carries_the_caller()
    {
        var tokens = Tokens(_key);

        var validation = await tokens.ValidateAsync(tokens.Issue(Ana));

        Assert.Equal(Ana, validation.Caller);
    }

    [Fact]
    public async Task A_token_without_the_second_factor_says_so()
    {
        var tokens = Tokens(_key);

        var validation = await tokens.ValidateAsync(tokens.Issue(Ana with { MfaSatisfied = false }));

        Assert.False(validation.Caller!.MfaSatisfied);
    }

    [Fact]
    public async Task A_token_lives_fifteen_minutes_plus_at_most_a_minute_of_clock_skew()
    {
        var tokens = Tokens(_key);
        var token = tokens.Issue(Ana);

        _clock.Now = Now + TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(59);
        Assert.True((await tokens.ValidateAsync(token)).IsValid);

        _clock.Now = Now + TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(61);
        var expired = await tokens.ValidateAsync(token);
        Assert.False(expired.IsValid);
        Assert.Equal("the access token has expired", expired.Failure);
    }

    [Fact]
    public async Task A_tampered_payload_fails_the_signature()
    {
        var tokens = Tokens(_key);
        var parts = tokens.Issue(Ana).Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("approver", "admin", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";

        var validation = await tokens.ValidateAsync(tampered);

        Assert.False(validation.IsValid);
        Assert.Equal("the access token's signature is invalid", validation.Failure);
    }

    [Fact]
    public async Task A_token_signed_with_a_key_outside_the_ring_is_refused()
    {
        var foreign = Tokens(SigningKey.Generate(Now)).Issue(Ana);

        var validation = await Tokens(_key).ValidateAsync(foreign);

        Assert.False(validation.IsValid);
        Assert.Equal("the access token was signed with an unknown key", validation.Failure);
    }

    [Fact]
    public async Task An_unsigned_alg_none_token_is_refused()
    {
        var tokens = Tokens(_key);
        var parts = tokens.Issue(Ana).Split('.');
        var none = $"{Base64UrlEncoder.Encode($$"""{"alg":"none","typ":"JWT","kid":"{{_key.Id}}"}""")}.{parts[1]}.";

        var validation = await tokens.ValidateAsync(none);

        Assert.False(validation.IsValid);
    }

    [Fact]
    public async Task Another_algorithm_with_the_right_key_is_refused()
    {
        var handler = new JsonWebTokenHandler();
        var hs512 = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "invisible",
            Audience = "invisible-api",
            IssuedAt = Now.UtcDateTime,
            NotBefore = Now.UtcDateTime,
            Expires = Now.UtcDateTime.AddMinutes(15),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey([.. _key.Secret, .. _key.Secret]) { KeyId = _key.Id }, SecurityAlgorithms.HmacSha512),
            Claims = new Dictionary<string, object> { ["sub"] = Ana.UserId.ToString() },
        });

        var validation = await Tokens(_key).ValidateAsync(hs512);

        Assert.False(validation.IsValid);
    }

    [Fact]
    public async Task After_rotation_new_tokens_use_the_newest_key_and_old_ones_still_validate()
    {
        var newer = SigningKey.Generate(Now);
        var oldToken = Tokens(_key).Issue(Ana);
        var rotated = Tokens(_key, newer);

        var newToken = rotated.Issue(Ana);

        Assert.Equal(newer.Id, new JsonWebToken(newToken).Kid);
        Assert.True((await rotated.ValidateAsync(oldToken)).IsValid);
        Assert.True((await rotated.ValidateAsync(newToken)).IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    public async Task Garbage_is_refused_without_throwing(string token)
    {
        Assert.False((await Tokens(_key).ValidateAsync(token)).IsValid);
    }

    private AccessTokens Tokens(params SigningKey[] keys) => new(new SigningKeyRing(keys), new AccessTokenOptions(), _clock);

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
