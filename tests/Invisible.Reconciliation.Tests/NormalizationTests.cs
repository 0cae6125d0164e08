using Invisible.Reconciliation.Text;

namespace Invisible.Reconciliation.Tests;

public class NormalizationTests
{
    [Theory]
    [InlineData("PO-10045", "10045")]
    [InlineData("PO10045", "10045")]
    [InlineData("PO #10045", "10045")]
    [InlineData("po-10045", "10045")]
    [InlineData("P.O. 010045", "10045")]
    [InlineData("10045", "10045")]
    [InlineData("", "")]
    public void PO_numbers_ignore_punctuation_case_a_leading_PO_and_leading_zeros(string printed, string expected)
    {
        Assert.Equal(expected, Normalize.PoNumber(printed));
    }

    [Theory]
    [InlineData("INV-0892", "892")]
    [InlineData("0892", "892")]
    [InlineData("INV A1261", "A1261")]
    [InlineData("Invoice No. 0892", "892")]
    [InlineData("no-892", "892")]
    [InlineData("2026-1787", "20261787")]
    public void Invoice_numbers_ignore_punctuation_case_a_leading_INV_INVOICE_or_NO_and_leading_zeros(string printed, string expected)
    {
        Assert.Equal(expected, Normalize.InvoiceNumber(printed));
    }

    [Theory]
    [InlineData("bluewater", "bluewtaer", 1)]
    [InlineData("chemicals", "chmicals", 1)]
    [InlineData("horizon", "orion", 2)]
    [InlineData("same", "same", 0)]
    public void Typing_distance_counts_a_swap_of_neighbours_as_one_slip(string first, string second, int expected)
    {
        Assert.Equal(expected, StringSimilarity.TypingDistance(first, second, limit: 3));
    }

    [Fact]
    public void Typing_distance_gives_up_beyond_the_limit()
    {
        Assert.Equal(2, StringSimilarity.TypingDistance("granite", "lumen", limit: 1));
    }
}
