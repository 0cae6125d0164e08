using Invisible.Identity.Mfa;

namespace Invisible.Identity.Tests;

public sealed class RecoveryCodeTests
{
    [Fact]
    public void Ten_distinct_codes_are_generated_and_each_works_once()
    {
        var codes = RecoveryCodes.Generate();
        IReadOnlyList<string> stored = codes.Select(RecoveryCodes.Hash).ToArray();

        Assert.Equal(10, codes.Distinct().Count());
        var afterFirst = RecoveryCodes.Redeem(stored, codes[3]);
        Assert.NotNull(afterFirst);
        Assert.Equal(9, afterFirst.Count);
        Assert.Null(RecoveryCodes.Redeem(afterFirst, codes[3]));
    }

    [Fact]
    public void Codes_are_matched_regardless_of_case_and_surrounding_spaces()
    {
        var code = RecoveryCodes.Generate()[0];

        Assert.NotNull(RecoveryCodes.Redeem([RecoveryCodes.Hash(code)], $"  {code.ToUpperInvariant()} "));
    }

    [Fact]
    public void An_unknown_code_redeems_nothing()
    {
        Assert.Null(RecoveryCodes.Redeem(RecoveryCodes.Generate().Select(RecoveryCodes.Hash).ToArray(), "aaaaa-bbbbb"));
    }
}
