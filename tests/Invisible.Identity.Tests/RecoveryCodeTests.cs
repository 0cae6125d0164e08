using System.Security.Cryptography;
using Invisible.Identity.Mfa;

namespace Invisible.Identity.Tests;

public sealed class RecoveryCodeTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void Ten_distinct_codes_are_generated_and_each_works_once()
    {
        var codes = RecoveryCodes.Generate();
        IReadOnlyList<string> stored = codes.Select(code => RecoveryCodes.Protect(Key, code)).ToArray();

        Assert.Equal(10, codes.Distinct().Count());
        var afterFirst = RecoveryCodes.Redeem(Key, stored, codes[3]);
        Assert.NotNull(afterFirst);
        Assert.Equal(9, afterFirst.Count);
        Assert.Null(RecoveryCodes.Redeem(Key, afterFirst, codes[3]));
    }

    [Fact]
    public void Codes_are_matched_regardless_of_case_and_surrounding_spaces()
    {
        var code = RecoveryCodes.Generate()[0];

        Assert.NotNull(RecoveryCodes.Redeem(Key, [RecoveryCodes.Protect(Key, code)], $"  {code.ToUpperInvariant()} "));
    }

    [Fact]
    public void An_unknown_code_redeems_nothing()
    {
        Assert.Null(RecoveryCodes.Redeem(Key, RecoveryCodes.Generate().Select(code => RecoveryCodes.Protect(Key, code)).ToArray(), "aaaaa-bbbbb"));
    }

    [Fact]
    public void The_stored_value_is_neither_the_code_nor_its_plain_hash_and_depends_on_the_key()
    {
        var code = RecoveryCodes.Generate()[0];

        var stored = RecoveryCodes.Protect(Key, code);

        Assert.StartsWith(RecoveryCodes.KeyedPrefix, stored);
        Assert.DoesNotContain(code, stored);
        Assert.DoesNotContain(RecoveryCodes.Hash(code), stored);
        Assert.NotEqual(stored, RecoveryCodes.Protect(RandomNumberGenerator.GetBytes(32), code));
        Assert.Null(RecoveryCodes.Redeem(RandomNumberGenerator.GetBytes(32), [stored], code));
    }

    [Fact]
    public void A_plain_hash_from_before_the_key_is_wrapped_without_its_code_and_still_redeems_it()
    {
        var codes = RecoveryCodes.Generate();
        var plain = codes.Select(RecoveryCodes.Hash).ToArray();

        var wrapped = plain.Select(stored => RecoveryCodes.Wrap(Key, stored)).ToArray();
        var left = RecoveryCodes.Redeem(Key, plain, codes[0]);

        Assert.Equal(codes.Select(code => RecoveryCodes.Protect(Key, code)), wrapped);
        Assert.NotNull(RecoveryCodes.Redeem(Key, wrapped, codes[1]));
        Assert.NotNull(left);
        Assert.All(left, stored => Assert.True(RecoveryCodes.IsKeyed(stored)));
    }
}
