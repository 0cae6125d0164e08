using System.Security.Cryptography;
using Invisible.Identity.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Invisible.Identity.Tests;

public sealed class SigningKeySecretTests
{
    private static readonly Caller Ana = new(Guid.NewGuid(), Guid.NewGuid(), "clerk", Guid.NewGuid(), Guid.NewGuid(), MfaSatisfied: true);

    [Fact]
    public void The_first_key_of_the_secret_signs_and_ids_are_stable_across_processes()
    {
        var (older, newer) = (NewKey(), NewKey());

        var ring = SigningKeyRing.FromSecret($"{newer}\n{older}");
        var again = SigningKeyRing.FromSecret($"{newer} {older}");

        Assert.Equal(2, ring.Keys.Count);
        Assert.Equal(Convert.FromBase64String(newer), ring.Active.Secret);
        Assert.Equal(ring.Active.Id, again.Active.Id);
        Assert.NotEqual(ring.Active.Id, SigningKeyRing.FromSecret(older).Active.Id);
    }

    [Fact]
    public async Task Tokens_signed_before_a_rotation_validate_until_their_key_is_dropped()
    {
        var (older, newer) = (NewKey(), NewKey());
        var beforeRotation = new AccessTokens(SigningKeyRing.FromSecret(older), new AccessTokenOptions(), TimeProvider.System).Issue(Ana);

        var rotated = new AccessTokens(SigningKeyRing.FromSecret($"{newer} {older}"), new AccessTokenOptions(), TimeProvider.System);
        var dropped = new AccessTokens(SigningKeyRing.FromSecret(newer), new AccessTokenOptions(), TimeProvider.System);

        Assert.True((await rotated.ValidateAsync(beforeRotation)).IsValid);
        Assert.NotEqual(new JsonWebToken(beforeRotation).Kid, new JsonWebToken(rotated.Issue(Ana)).Kid);
        Assert.False((await dropped.ValidateAsync(beforeRotation)).IsValid);
    }

    [Fact]
    public void A_secret_that_is_not_base64_names_the_key_at_fault()
    {
        var error = Assert.Throws<FormatException>(() => SigningKeyRing.FromSecret($"{NewKey()} not*base64"));

        Assert.Contains("key 2", error.Message);
    }

    [Fact]
    public void Api_keys_are_distinct_show_only_their_prefix_and_hash_to_32_bytes()
    {
        var key = ApiKeys.New();

        Assert.StartsWith(ApiKeys.Prefix, key);
        Assert.NotEqual(key, ApiKeys.New());
        Assert.Equal(12, ApiKeys.ShownPrefix(key).Length);
        Assert.Equal(32, OpaqueTokens.Hash(key).Length);
        Assert.Equal(OpaqueTokens.Hash(key), OpaqueTokens.Hash(key));
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
}
