using Invisible.Data.Retention;

namespace Invisible.Data.Tests.Retention;

public sealed class RetentionPolicyTests
{
    [Theory]
    // Fiscal year = calendar year: 2022's records were kept through 2029 and go from 1 January 2030.
    [InlineData(12, 31, "2029-12-31", "2021-12-31")]
    [InlineData(12, 31, "2030-01-01", "2022-12-31")]
    // Fiscal year ending 30 June: the year ending 2022-06-30 is kept through 2029-06-30.
    [InlineData(6, 30, "2029-06-30", "2021-06-30")]
    [InlineData(6, 30, "2029-07-01", "2022-06-30")]
    public void Financial_records_go_the_day_after_seven_full_years_past_the_end_of_their_fiscal_year(int month, int day, string today, string cutoff)
    {
        var policy = RetentionPolicy.Default with { FiscalYearEndMonth = month, FiscalYearEndDay = day };

        Assert.Equal(DateOnly.Parse(cutoff, System.Globalization.CultureInfo.InvariantCulture), policy.FinancialCutoff(DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void A_fiscal_year_end_on_29_February_is_refused()
    {
        Assert.NotEmpty((RetentionPolicy.Default with { FiscalYearEndMonth = 2, FiscalYearEndDay = 29 }).Problems());
    }
}
